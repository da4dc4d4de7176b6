using System.Globalization;
using System.Net;
using System.Text;

namespace Larsbot.Ledger;

/// <summary>One person's month. Docked amounts are shown positive in their own columns; the total applies the sign.</summary>
internal sealed record PayoutRow(string PersonId, string Name, long DutyMs, decimal Stipend, int PagesAnswered,
    decimal BonusPaid, decimal BonusHeld, decimal DockedOut, decimal DockedIn)
{
    public decimal DutyHours => Math.Round(DutyMs / 3_600_000m, 2, MidpointRounding.AwayFromZero);

    /// <summary>What is paid: the held bonus is not, until its report is in.</summary>
    public decimal Total => Stipend + BonusPaid - DockedOut + DockedIn;
}

/// <summary>A page whose bonus is held: the acker has not filed `lars report` yet.</summary>
internal sealed record MissingReport(long CountdownId, long AlertId, string PersonId, DateOnly Day, string Summary);

/// <summary>A page nobody acked: no bonus, listed so nobody wonders where it went.</summary>
internal sealed record UnansweredPage(long CountdownId, long AlertId, DateOnly Day, string Summary);

/// <summary>A month's payout, ready to print as Markdown, CSV or HTML.</summary>
internal sealed record PayoutReport(string Month, string Currency, string TimeZoneId, bool Provisional, IReadOnlyList<PayoutRow> Rows,
    IReadOnlyList<MissingReport> Missing, IReadOnlyList<UnansweredPage> Unanswered)
{
    public PayoutRow Totals => new("TOTAL", "Total", Rows.Sum(r => r.DutyMs), Rows.Sum(r => r.Stipend), Rows.Sum(r => r.PagesAnswered),
        Rows.Sum(r => r.BonusPaid), Rows.Sum(r => r.BonusHeld), Rows.Sum(r => r.DockedOut), Rows.Sum(r => r.DockedIn));

    private static string M(decimal d) => d.ToString("0.00", CultureInfo.InvariantCulture);

    public string Render(string format) => format switch
    {
        "md" => ToMarkdown(),
        "csv" => ToCsv(),
        "html" => ToHtml(),
        _ => throw new ArgumentException($"unknown format '{format}' (use md, csv or html)", nameof(format)),
    };

    public static readonly string[] Formats = ["md", "csv", "html"];

    public string ToCsv()
    {
        var sb = new StringBuilder("person,name,duty_hours,stipend,pages_answered,bonus_paid,bonus_held,docked_out,docked_in,total\n");
        foreach (var r in Rows.Append(Totals))
            sb.Append(CultureInfo.InvariantCulture,
                $"{Csv(r.PersonId)},{Csv(r.Name)},{M(r.DutyHours)},{M(r.Stipend)},{r.PagesAnswered},{M(r.BonusPaid)},{M(r.BonusHeld)},{M(r.DockedOut)},{M(r.DockedIn)},{M(r.Total)}\n");
        return sb.ToString();
    }

    private static string Csv(string s) => s.IndexOfAny([',', '"', '\n', '\r']) < 0 ? s : "\"" + s.Replace("\"", "\"\"") + "\"";

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# On-call payout {Month}{(Provisional ? " (so far)" : "")}\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"Amounts in {Currency}; days in {TimeZoneId}. Held bonuses are not in the total until their incident report is filed.\n\n");
        sb.Append("| person | duty hours | stipend | pages answered | bonus paid | bonus held | docked out | docked in | total |\n");
        sb.Append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var r in Rows)
            sb.Append(CultureInfo.InvariantCulture,
                $"| {Md(r.Name)} ({r.PersonId}) | {M(r.DutyHours)} | {M(r.Stipend)} | {r.PagesAnswered} | {M(r.BonusPaid)} | {M(r.BonusHeld)} | {M(r.DockedOut)} | {M(r.DockedIn)} | {M(r.Total)} |\n");
        var t = Totals;
        sb.Append(CultureInfo.InvariantCulture,
            $"| **Total** | {M(t.DutyHours)} | {M(t.Stipend)} | {t.PagesAnswered} | {M(t.BonusPaid)} | {M(t.BonusHeld)} | {M(t.DockedOut)} | {M(t.DockedIn)} | **{M(t.Total)}** |\n");
        sb.Append("\n## Pages still missing a report\n\n");
        if (Missing.Count == 0) sb.Append("None.\n");
        foreach (var m in Missing)
            sb.Append(CultureInfo.InvariantCulture, $"- {m.Day:yyyy-MM-dd} page #{m.CountdownId} (alert {m.AlertId}, {Md(m.Summary)}): {m.PersonId} acked; `lars report {m.AlertId} <text or URL>` releases the bonus\n");
        sb.Append("\n## Pages nobody acked\n\n");
        if (Unanswered.Count == 0) sb.Append("None.\n");
        foreach (var u in Unanswered)
            sb.Append(CultureInfo.InvariantCulture, $"- {u.Day:yyyy-MM-dd} page #{u.CountdownId} (alert {u.AlertId}, {Md(u.Summary)}): no bonus\n");
        return sb.ToString();
    }

    private static string Md(string s) => s.Replace("|", "\\|").Replace("\n", " ");

    private static string H(string s) => WebUtility.HtmlEncode(s);

    /// <summary>One page, no external anything: inline CSS and one inline SVG bar chart per person.</summary>
    public string ToHtml()
    {
        var sb = new StringBuilder();
        var title = $"On-call payout {Month}{(Provisional ? " (so far)" : "")}";
        sb.Append(CultureInfo.InvariantCulture, $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>{H(title)}</title>
            <style>
            body {"{"} font: 15px/1.4 system-ui, sans-serif; margin: 2em; color: #222; max-width: 1100px {"}"}
            table {"{"} border-collapse: collapse; margin: 1em 0 {"}"}
            th, td {"{"} border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: right {"}"}
            th:first-child, td:first-child {"{"} text-align: left {"}"}
            tr.total td {"{"} font-weight: bold; border-top: 2px solid #444 {"}"}
            .person {"{"} margin: 1.2em 0 {"}"} .person h3 {"{"} margin: 0 0 .3em {"}"}
            .note {"{"} color: #666 {"}"}
            </style></head><body>
            <h1>{H(title)}</h1>
            <p class="note">Amounts in {H(Currency)}; days in {H(TimeZoneId)}. Held bonuses are not in the total until their incident report is filed.</p>
            <table><thead><tr><th>person</th><th>duty hours</th><th>stipend</th><th>pages answered</th><th>bonus paid</th><th>bonus held</th><th>docked out</th><th>docked in</th><th>total</th></tr></thead><tbody>

            """);
        foreach (var r in Rows) AppendHtmlRow(sb, r, $"{H(r.Name)} ({H(r.PersonId)})", "");
        AppendHtmlRow(sb, Totals, "Total", " class=\"total\"");
        sb.Append("</tbody></table>\n<h2>Per person</h2>\n");
        var scale = Math.Max(1m, Rows.SelectMany(r => new[] { r.Stipend, r.BonusPaid, r.BonusHeld, r.DockedOut, r.DockedIn, Math.Abs(r.Total) }).DefaultIfEmpty(1m).Max());
        foreach (var r in Rows) AppendChart(sb, r, scale);
        sb.Append("<h2>Pages still missing a report</h2>\n<ul>\n");
        if (Missing.Count == 0) sb.Append("<li>None.</li>\n");
        foreach (var m in Missing)
            sb.Append(CultureInfo.InvariantCulture, $"<li>{m.Day:yyyy-MM-dd} page #{m.CountdownId} (alert {m.AlertId}, {H(m.Summary)}): {H(m.PersonId)} acked; <code>lars report {m.AlertId} &lt;text or URL&gt;</code> releases the bonus</li>\n");
        sb.Append("</ul>\n<h2>Pages nobody acked</h2>\n<ul>\n");
        if (Unanswered.Count == 0) sb.Append("<li>None.</li>\n");
        foreach (var u in Unanswered)
            sb.Append(CultureInfo.InvariantCulture, $"<li>{u.Day:yyyy-MM-dd} page #{u.CountdownId} (alert {u.AlertId}, {H(u.Summary)}): no bonus</li>\n");
        sb.Append("</ul>\n</body></html>\n");
        return sb.ToString();
    }

    private static void AppendHtmlRow(StringBuilder sb, PayoutRow r, string label, string cls) =>
        sb.Append(CultureInfo.InvariantCulture,
            $"<tr{cls}><td>{label}</td><td>{M(r.DutyHours)}</td><td>{M(r.Stipend)}</td><td>{r.PagesAnswered}</td><td>{M(r.BonusPaid)}</td><td>{M(r.BonusHeld)}</td><td>{M(r.DockedOut)}</td><td>{M(r.DockedIn)}</td><td>{M(r.Total)}</td></tr>\n");

    private static void AppendChart(StringBuilder sb, PayoutRow r, decimal scale)
    {
        (string Label, decimal Value, string Colour)[] bars =
        [
            ("stipend", r.Stipend, "#4e79a7"), ("bonus paid", r.BonusPaid, "#59a14f"), ("bonus held", r.BonusHeld, "#bab0ac"),
            ("docked in", r.DockedIn, "#f28e2b"), ("docked out", r.DockedOut, "#e15759"), ("total", r.Total, "#222"),
        ];
        const int labelW = 110, barW = 560, rowH = 22;
        sb.Append(CultureInfo.InvariantCulture,
            $"<div class=\"person\"><h3>{H(r.Name)} ({H(r.PersonId)}): {M(r.Total)} <span class=\"note\">- {M(r.DutyHours)} h on duty, {r.PagesAnswered} page(s) answered</span></h3>\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{labelW + barW + 90}\" height=\"{bars.Length * rowH}\" role=\"img\" aria-label=\"{H(r.Name)} payout\">\n");
        for (var i = 0; i < bars.Length; i++)
        {
            var (label, value, colour) = bars[i];
            var w = (int)Math.Round(Math.Abs(value) / scale * barW);
            var y = i * rowH;
            sb.Append(CultureInfo.InvariantCulture,
                $"<text x=\"0\" y=\"{y + 15}\" font-size=\"13\" fill=\"#444\">{label}</text>" +
                $"<rect x=\"{labelW}\" y=\"{y + 3}\" width=\"{w}\" height=\"{rowH - 6}\" fill=\"{colour}\"/>" +
                $"<text x=\"{labelW + w + 6}\" y=\"{y + 15}\" font-size=\"13\">{(label == "docked out" && value > 0 ? "-" : "")}{M(value)}</text>\n");
        }
        sb.Append("</svg></div>\n");
    }
}
