namespace Scheduler.Scenarios.Tests;

using CsCheck;
using Scheduler.Scenarios.Generation;

public sealed class ModelTests
{
    private static readonly TurbinePowerCurve Curve = TurbinePowerCurve.Generic3600Kilowatt;

    [Theory]
    [InlineData(0.0)]
    [InlineData(2.99)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void TurbineCurve_IsZero_BelowCutIn(double speed) => Assert.Equal(0, Curve.Fraction(speed));

    [Theory]
    [InlineData(12.0)]
    [InlineData(18.0)]
    [InlineData(25.0)]
    public void TurbineCurve_IsRated_BetweenRatedAndCutOut(double speed) => Assert.Equal(1, Curve.Fraction(speed));

    [Theory]
    [InlineData(25.01)]
    [InlineData(40.0)]
    public void TurbineCurve_IsZero_AboveCutOut(double speed) => Assert.Equal(0, Curve.Fraction(speed));

    [Fact]
    public void TurbineCurve_IsMonotoneFromCutInToCutOut_Property() =>
        Gen.Select(Gen.Double[3, 25], Gen.Double[3, 25]).Sample((a, b) =>
        {
            var (lo, hi) = a <= b ? (a, b) : (b, a);
            return Curve.Fraction(lo) <= Curve.Fraction(hi) && Curve.Fraction(lo) is >= 0 and <= 1;
        });

    [Fact]
    public void TurbineCurve_StaysWithinZeroAndOne_Property() =>
        Gen.Double[-10, 60].Sample(v => Curve.Fraction(v) is >= 0 and <= 1);

    [Fact]
    public void DensityCorrection_LowersOutput_InThinAir()
    {
        // Wyoming's plain at 2,100 m in winter: 0.77 atm, -11 °C.
        var rho = TurbinePowerCurve.AirDensity(0.77 * 101_325, -11);
        Assert.Equal(1.037, rho, 3);
        var normalised = TurbinePowerCurve.DensityNormalisedSpeed(9.0, rho);
        Assert.True(normalised < 9.0);
        Assert.True(Curve.Fraction(normalised) < Curve.Fraction(9.0));
    }

    [Fact]
    public void DensityCorrection_RaisesOutput_InDenseAir()
    {
        var rho = TurbinePowerCurve.AirDensity(101_325, -20); // sea level, cold: 1.39 kg/m³
        Assert.True(TurbinePowerCurve.DensityNormalisedSpeed(8.0, rho) > 8.0);
        Assert.Equal(8.0, TurbinePowerCurve.DensityNormalisedSpeed(8.0, TurbinePowerCurve.ReferenceAirDensityKilogramsPerCubicMetre), 12);
    }

    [Fact]
    public void WindPlantModel_ScalesToNameplateAfterLosses()
    {
        var model = new WindPlantModel(Curve, LossesFraction: 0.1);
        Assert.Equal(270, model.OutputMegawatts(15, 300), 9);
        Assert.Equal(0, model.OutputMegawatts(2, 300));
    }

    [Fact]
    public void WindPlantModel_ShearsBetweenHeights()
    {
        var srw = SrwFile.Parse(new StringReader(
            "1,c,s,c,2013,40,-100,0,1,1\nsrc\nTemperature,Pressure,Speed,Temperature,Pressure,Speed\nC,atm,m/s,C,atm,m/s\n80,80,80,100,100,100\n15,1,8,15,1,8.5\n"), "s.srw");

        var at90 = new WindPlantModel(Curve, HubHeightMetres: 90).HubSpeeds(srw)[0];
        var at120 = new WindPlantModel(Curve, HubHeightMetres: 120).HubSpeeds(srw)[0];

        Assert.InRange(at90, 8, 8.5);
        var alpha = Math.Log(8.5 / 8) / Math.Log(100.0 / 80);
        Assert.Equal(8 * Math.Pow(90.0 / 80, alpha), at90, 9);
        Assert.Equal(8.5 * Math.Pow(120.0 / 100, alpha), at120, 9);
        Assert.Equal(8.5, new WindPlantModel(Curve, HubHeightMetres: 100).HubSpeeds(srw)[0]);
    }

    [Theory]
    [InlineData(0, 20)]
    [InlineData(-5, 20)]
    [InlineData(0, -30)]
    public void PvModel_IsZero_AtNight(double ghi, double celsius) => Assert.Equal(0, PvModel.Default.OutputFraction(ghi, celsius));

    [Fact]
    public void PvModel_DeratesWithTemperature()
    {
        var cool = PvModel.Default.OutputFraction(600, 0);
        var hot = PvModel.Default.OutputFraction(600, 35);
        // 35 K warmer cells at -0.4 %/K: about 14 % less.
        Assert.Equal(1 - 0.004 * 35 / (1 + PvModel.Default.TemperatureCoefficientPerCelsius * (PvModel.Default.CellCelsius(600, 0, 1) - 25)), hot / cool, 6);
    }

    [Fact]
    public void PvModel_DeratesWithTemperature_Property() =>
        Gen.Select(Gen.Double[1, 1200], Gen.Double[-30, 45], Gen.Double[0, 20], Gen.Double[0, 20]).Sample((ghi, t, dt, wind) =>
            PvModel.Default.OutputFraction(ghi, t + dt, wind) <= PvModel.Default.OutputFraction(ghi, t, wind));

    [Fact]
    public void PvModel_NeverExceedsNameplate_Property() =>
        Gen.Select(Gen.Double[-100, 1500], Gen.Double[-40, 50], Gen.Double[0, 30], Gen.Double[1, 2]).Sample((ghi, t, wind, dcAc) =>
            new PvModel(DcAcRatio: dcAc).OutputFraction(ghi, t, wind) is >= 0 and <= 1);

    [Fact]
    public void PvModel_ClipsAtNameplate_OnAColdBrightDay() => Assert.Equal(1, PvModel.Default.OutputFraction(1100, -10, 5));

    [Fact]
    public void PvModel_Faiman_HeatsCellsInSunAndCoolsThemInWind()
    {
        var still = PvModel.Default.CellCelsius(1000, 25, 0);
        var windy = PvModel.Default.CellCelsius(1000, 25, 10);
        Assert.Equal(25 + 1000 / 25.0, still, 9);
        Assert.True(windy < still);
    }
}
