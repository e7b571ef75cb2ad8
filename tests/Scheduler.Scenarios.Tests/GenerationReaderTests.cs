namespace Scheduler.Scenarios.Tests;

using System.Globalization;
using System.Text;
using Scheduler.Scenarios.Generation;

public sealed class GenerationReaderTests
{
    private const string SrwHeader =
        "818046,city??,WY,country??,2013,41.93,-106.36,Not Available,1,3\n" +
        "WIND Toolkit data from NREL\n" +
        "Temperature,Pressure,Speed,Direction,Temperature,Pressure,Speed,Direction\n" +
        "C,atm,m/s,Degrees,C,atm,m/s,Degrees\n" +
        "80,80,80,80,100,100,100,100\n";

    [Fact]
    public void SrwFile_ReadsHeightsColumnsAndHourlyClock_InlineSample()
    {
        var text = SrwHeader + "-11.2,0.77,9.240,260.1,-11.3,0.77,9.460,260.5\n-11.3,0.77,9.030,261.2,-11.5,0.77,9.220,261.5\n-11.5,0.77,9.440,260.3,-11.7,0.77,9.670,260.8\n";
        var srw = SrwFile.Parse(new StringReader(text), "inline.srw");

        Assert.Equal(2013, srw.Year);
        Assert.Equal(3, srw.Rows);
        Assert.Equal([80.0, 100.0], srw.HeightsOf("Speed"));
        Assert.Equal([9.46, 9.22, 9.67], srw.Column("Speed", 100));
        Assert.Equal(-11.5, srw.Column("Temperature", 100)[1]);
        Assert.Equal(new DateTime(2013, 1, 1, 2, 0, 0), srw.Clock.StartAt(2));
        Assert.Equal(TimeSpan.FromHours(1), srw.Clock.Interval);
    }

    [Fact]
    public void SrwFile_SkipsTwentyNinthFebruary_WhenALeapYearHas8760Rows()
    {
        var text = new StringBuilder("1,c,MT,c,2012,48.3,-108.3,NA,1,8760\nsrc\nTemperature,Pressure,Speed\nC,atm,m/s\n100,100,100\n");
        for (var i = 0; i < 8760; i++) text.Append("0,0.9,").Append(i.ToString(CultureInfo.InvariantCulture)).Append('\n');
        var srw = SrwFile.Parse(new StringReader(text.ToString()), "leap.srw");

        var firstOfMarch = (31 + 28) * 24;
        Assert.Equal(new DateTime(2012, 2, 28, 23, 0, 0), srw.Clock.StartAt(firstOfMarch - 1));
        Assert.Equal(new DateTime(2012, 3, 1, 0, 0, 0), srw.Clock.StartAt(firstOfMarch));
        Assert.Equal(new DateTime(2013, 1, 1), srw.Clock.End);
    }

    [Fact]
    public void SrwFile_Fails_WhenFieldsAndHeightsDisagree()
    {
        var text = "1,c,s,c,2013,0,0,0,1,1\nsrc\nTemperature,Speed\nC,m/s\n100\n1,2\n";
        var e = Assert.Throws<FormatException>(() => SrwFile.Parse(new StringReader(text), "bad.srw"));
        Assert.Contains("heights", e.Message);
    }

    [Theory]
    [InlineData("35.2018863_-101.945027_windtoolkit_2012_60min_80m_100m.srw.gz", 2012, 8.23)]
    [InlineData("41.939_-106.37_windtoolkit_2013_60min_80m_100m.srw.gz", 2013, 9.16)]
    [InlineData("48.31388179591837_-108.28291585106385_windtoolkit_2012_60min_80m_100m.srw.gz", 2012, 7.09)]
    public void SrwFile_ReadsBundledCopies(string file, int year, double meanSpeed80Metres)
    {
        var srw = SrwFile.Read(TestData.Bundled(file));

        Assert.Equal(year, srw.Year);
        Assert.Equal(8760, srw.Rows);
        Assert.Equal([80.0, 100.0], srw.HeightsOf("Speed"));
        Assert.Equal(meanSpeed80Metres, srw.Column("Speed", 80).Average(), 2); // the figures in shared/data/README.md
    }

    [SkippableFact]
    public void SrwFile_ReducedCopyMatchesOriginal()
    {
        var original = TestData.Shared("generation/41.939_-106.37_windtoolkit_2013_60min_80m_100m.srw");
        Skip.If(original is null, "the shared data folder (../shared/data) is not present on this machine");
        var a = SrwFile.Read(original);
        var b = SrwFile.Read(TestData.Bundled("41.939_-106.37_windtoolkit_2013_60min_80m_100m.srw.gz"));
        foreach (var field in new[] { "Speed", "Temperature", "Pressure" })
            Assert.Equal(a.Column(field, 100), b.Column(field, 100));
        Assert.Equal(a.Clock.End, b.Clock.End);
    }

    private const string Psm3Sample =
        "Source,Location ID,City,State,Country,Latitude,Longitude,Time Zone,Elevation,Local Time Zone\n" +
        "NSRDB,172543,-,-,-,41.93,-106.38,-7,2088,-7\n" +
        "Year,Month,Day,Hour,Minute,GHI,DHI,DNI,Wind Speed,Temperature\n" +
        "2013,6,1,11,30,900,100,850,3.5,20\n" +
        "2013,6,1,12,30,950,110,870,4,22\n";

    [Fact]
    public void Psm3File_ReadsMetadataAndShiftsMidHourStamps_InlineSample()
    {
        var psm3 = Psm3File.Parse(new StringReader(Psm3Sample), "inline.csv");

        Assert.Equal(-7, psm3.UtcOffsetHours);
        Assert.Equal(41.93, psm3.Latitude);
        Assert.Equal(2088, psm3.ElevationMetres);
        Assert.Equal(new DateTime(2013, 6, 1, 11, 0, 0), psm3.Ghi.StartAt(0)); // minute 30 marks the middle of the hour
        Assert.Equal([900.0, 950.0], psm3.Ghi.Values);
        Assert.Equal([20.0, 22.0], psm3.AirCelsius);
        Assert.Equal([3.5, 4.0], psm3.WindMetresPerSecond!);
    }

    [Fact]
    public void Psm3File_Fails_WhenGhiColumnMissing()
    {
        var text = Psm3Sample.Replace("GHI", "XXX", StringComparison.Ordinal);
        var e = Assert.Throws<FormatException>(() => Psm3File.Parse(new StringReader(text), "bad.csv"));
        Assert.Contains("'GHI'", e.Message);
    }

    [Theory]
    [InlineData("35.2018863_-101.945027_psmv3_60_2012.csv.gz", -6, 2002)]
    [InlineData("41.939_-106.37_psmv3_60_2013.csv.gz", -7, 1619)]
    [InlineData("48.31388179591837_-108.28291585106385_psmv3_60_2012.csv.gz", -7, 1376)]
    public void Psm3File_ReadsBundledCopies(string file, double utcOffsetHours, double annualGhiKilowattHoursPerSquareMetre)
    {
        var psm3 = Psm3File.Read(TestData.Bundled(file));

        Assert.Equal(8760, psm3.Ghi.Count);
        Assert.Equal(utcOffsetHours, psm3.UtcOffsetHours);
        Assert.InRange(psm3.Ghi.Values.Sum() / 1000, annualGhiKilowattHoursPerSquareMetre - 2, annualGhiKilowattHoursPerSquareMetre + 2);
    }

    [Fact]
    public void StateGridFile_ReadsColumnsByLeadingWords_InlineSample()
    {
        var text = "Time(year-month-day h:m:s),Total solar irradiance (W/m2),Direct normal irradiance (W/m2),Global horizontal irradiance (W/m2),Air temperature  (°C) ,Atmosphere (hpa),Power (MW)\n" +
                   "2019-06-01 12:00:00,800,700,750,25.5,913,40.1\n2019-06-01 12:15:00,810,705,760,25.7,913,40.5\n";
        var sg = StateGridFile.Parse(new StringReader(text), "cn_stategrid_solar_site1_50MW_x.csv");

        Assert.Equal(TimeSpan.FromMinutes(15), sg.Ghi.Interval);
        Assert.Equal([750.0, 760.0], sg.Ghi.Values);
        Assert.Equal([25.5, 25.7], sg.AirCelsius);
        Assert.Equal([40.1, 40.5], sg.PowerMegawatts!);
        Assert.Equal(50, sg.NominalCapacityMegawatts);
    }

    [Theory]
    [InlineData("cn_stategrid_solar_site1_50MW_2019_60min.csv.gz", 50)]
    [InlineData("cn_stategrid_solar_site2_130MW_2019_60min.csv.gz", 130)]
    [InlineData("cn_stategrid_solar_site5_110MW_2019_60min.csv.gz", 110)]
    public void StateGridFile_ReadsBundledCopies(string file, double capacityMegawatts)
    {
        var sg = StateGridFile.Read(TestData.Bundled(file));

        Assert.Equal(8760, sg.Ghi.Count);
        Assert.Equal(TimeSpan.FromHours(1), sg.Ghi.Interval);
        Assert.Equal(new DateTime(2019, 1, 1), sg.Ghi.First);
        Assert.Equal(capacityMegawatts, sg.NominalCapacityMegawatts);
        Assert.InRange(sg.PowerMegawatts!.Max(), 0.5 * capacityMegawatts, capacityMegawatts);
    }

    [SkippableFact]
    public void StateGridFile_ReducedCopyIsTheHourlyMeanOfTheOriginal()
    {
        var original = TestData.Shared("generation/cn_stategrid_solar_site1_50MW_2019-2020_15min.csv.gz");
        Skip.If(original is null, "the shared data folder (../shared/data) is not present on this machine");
        var quarter = StateGridFile.Read(original);
        var hourly = StateGridFile.Read(TestData.Bundled("cn_stategrid_solar_site1_50MW_2019_60min.csv.gz"));

        Assert.Equal(70_176, quarter.Ghi.Count);
        for (var h = 0; h < hourly.Ghi.Count; h += 97)
        {
            var t = hourly.Ghi.StartAt(h);
            Assert.Equal(quarter.Ghi.MeanOver(t, t.AddHours(1))!.Value, hourly.Ghi.Values[h], 3);
        }
    }
}
