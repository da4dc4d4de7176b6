using System.Globalization;
using System.Net;
using System.Text;
using Larsbot.Ledger;
using Larsbot.Storage;

namespace Larsbot.StatusPage;

/// <summary>
/// Renders the status page. All HTML is made here, on the server, with every piece of alert, roster and IRC text
/// HTML-encoded by <see cref="H"/>; the inline script only swaps in the server-rendered live part and ticks the
/// countdowns, so there is one place to get escaping right and the page reads fine with scripts off.
/// </summary>
internal static class StatusPageHtml
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string H(string? s) => WebUtility.HtmlEncode(s ?? "");

    private static string Utc(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", Inv) + " UTC";

    private static string Ms(DateTimeOffset t) => UnixMs.From(t).ToString(Inv);

    /// <summary>The same wording as the script's fmt(): whole seconds rounded up, minutes past two minutes.</summary>
    public static string Left(TimeSpan t)
    {
        var s = (long)Math.Max(0, Math.Ceiling(t.TotalSeconds));
        if (s < 120) return $"{s} s";
        var m = s / 60;
        return m < 120 ? $"{m}m {s % 60}s" : $"{m / 60}h {m % 60}m";
    }

    private static string Countdown(DateTimeOffset until, DateTimeOffset now) =>
        $"<span class=\"countdown\" data-until=\"{Ms(until)}\">{Left(until - now)}</span>";

    /// <summary>The whole page. <paramref name="query"/> is "" or "?token=..." (already URL-encoded) for links back to us.</summary>
    public static string Page(StatusSnapshot s, PayoutReport? ledger, IReadOnlyList<ReportMonth> reports, string query, string nonce)
    {
        var sb = new StringBuilder();
        sb.Append(Inv, $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <title>Larsbot status</title>
            <style nonce="{{nonce}}">{{Css}}</style>
            </head><body>
            <header><h1>Larsbot status</h1><span id="conn" class="conn">page loaded {{Utc(s.Now)}}</span></header>
            <main>
            <div id="live">
            """);
        sb.Append(Live(s));
        sb.Append("</div>\n");
        AppendLedger(sb, ledger);
        AppendReports(sb, reports, query);
        sb.Append(Inv, $$"""
            </main>
            <footer>Read-only. Ack, silence and take duty in IRC (<code>lars help</code>). Also: <a href="status.json{{H(query)}}">status.json</a>.</footer>
            <script nonce="{{nonce}}">{{Script}}</script>
            </body></html>

            """);
        return sb.ToString();
    }

    /// <summary>The part that changes by the second: polled by the page and swapped in whole.</summary>
    public static string Live(StatusSnapshot s)
    {
        var sb = new StringBuilder();
        sb.Append(Inv, $"<div class=\"snap\" data-now=\"{Ms(s.Now)}\">\n<div class=\"cards\">\n");
        AppendMode(sb, s);
        AppendDuty(sb, s);
        sb.Append("</div>\n");
        AppendOpen(sb, s);
        if (s.Silences is not null) AppendSilences(sb, s.Silences);
        AppendRecent(sb, s);
        sb.Append("</div>\n");
        return sb.ToString();
    }

    private static void AppendMode(StringBuilder sb, StatusSnapshot s)
    {
        if (s.AckMode is { } m)
            sb.Append(Inv, $"""
                <section id="mode" class="card mode acked"><h2>Mode</h2><p class="big">Acked by {H(m.Nick)}</p>
                <p>New alerts are shown but page nobody until {Utc(m.EndsAt)} ({Countdown(m.EndsAt, s.Now)} left).</p></section>

                """);
        else
            sb.Append("""
                <section id="mode" class="card mode normal"><h2>Mode</h2><p class="big">Normal</p>
                <p>Urgent alerts count down, then page.</p></section>

                """);
    }

    private static void AppendDuty(StringBuilder sb, StatusSnapshot s)
    {
        if (s.Duty is not { } d)
        {
            sb.Append("""
                <section id="duty" class="card nobody"><h2>On duty</h2><p class="big">Nobody</p>
                <p>Urgent pages go to everybody. Say <code>lars duty take</code> in IRC.</p></section>

                """);
            return;
        }
        var p = d.Person;
        sb.Append(Inv, $"""
            <section id="duty" class="card"><h2>On duty</h2><p class="big">{H(p.Name)}</p>
            <p>Their time: <b>{H(d.LocalNow.ToString("ddd HH:mm", Inv))}</b> ({H(p.TimeZoneId)})</p>
            <p class="note">since {Utc(d.Since)}</p><ul class="contacts">
            """);
        // Masked values (Irc:ShowContacts=false) are for reading, not for dialling.
        if (p.ShownEmail is { } e)
            sb.Append(p.MaskContacts ? $"<li>e: {H(e)}</li>" : $"<li>e: <a href=\"mailto:{H(e)}\">{H(e)}</a></li>");
        if (p.ShownPhone is { } ph)
            sb.Append(p.MaskContacts ? $"<li>p: {H(ph)}</li>" : $"<li>p: <a href=\"tel:{H(ph)}\">{H(ph)}</a></li>");
        if (p.HasPushover) sb.Append("<li>Pushover</li>");
        sb.Append("</ul></section>\n");
    }

    private static void AppendOpen(StringBuilder sb, StatusSnapshot s)
    {
        sb.Append("<section id=\"open\"><h2>Open alerts</h2>\n");
        if (s.Open.Count == 0) sb.Append("<p class=\"quiet\">No open alerts.</p>\n");
        foreach (var o in s.Open)
        {
            var target = o.DutyPerson ?? "everybody";
            var what = o.State switch
            {
                "counting" => $"Pages {H(target)} in {Countdown(o.Deadline!.Value, s.Now)} unless someone says <code>lars ack</code>",
                "paged" when o.Deadline is { } e => $"Paged; everybody in {Countdown(e, s.Now)} unless acked",
                "paged" => "Paged",
                _ => "Everybody paged, not acked yet",
            };
            sb.Append(Inv, $"<div class=\"open {H(o.State)}\" data-countdown=\"{o.CountdownId}\"><p class=\"what\">#{o.CountdownId}: {what}</p><ul>");
            foreach (var a in o.Alerts)
                sb.Append(Inv, $"<li><span class=\"host\">{H(a.Host)}</span> {H(a.Message)}</li>");
            sb.Append("</ul>");
            if (o.Pages.Count > 0)
                sb.Append("<p class=\"pages\">").AppendJoin(" · ", o.Pages.Select(p =>
                    H($"{p.Channel} {p.PersonId} {p.State} {p.At.ToString("HH:mm:ss", CultureInfo.InvariantCulture)}"))).Append("</p>");
            sb.Append("</div>\n");
        }
        sb.Append("</section>\n");
    }

    private static void AppendSilences(StringBuilder sb, IReadOnlyList<SilenceView> silences)
    {
        sb.Append("<section id=\"silences\"><h2>Active silences</h2>\n");
        if (silences.Count == 0) sb.Append("<p class=\"quiet\">None.</p>\n");
        else sb.Append("<ul>\n");
        foreach (var v in silences)
            sb.Append("<li>").AppendJoin(", ", v.Fields.Where(f => f.Value.Length > 0).Select(f => $"{H(f.Key)}: <b>{H(f.Value)}</b>")).Append("</li>\n");
        if (silences.Count > 0) sb.Append("</ul>\n");
        sb.Append("</section>\n");
    }

    private static void AppendRecent(StringBuilder sb, StatusSnapshot s)
    {
        sb.Append(Inv, $"<section id=\"recent\"><h2>Last {StatusStore.RecentCount} alerts</h2>\n");
        if (s.Recent.Count == 0)
        {
            sb.Append("<p class=\"quiet\">No alerts yet.</p></section>\n");
            return;
        }
        sb.Append("<table><thead><tr><th>#</th><th>received (UTC)</th><th>level</th><th>host</th><th>message</th><th>state</th></tr></thead><tbody>\n");
        foreach (var a in s.Recent)
            sb.Append(Inv, $"""
                <tr class="{H(a.Level)}" data-alert="{a.Id}"><td data-label="#">{a.Id}</td><td data-label="received">{a.ReceivedAt.UtcDateTime.ToString("MM-dd HH:mm:ss", Inv)}</td><td data-label="level">{H(a.Level)}</td><td data-label="host">{H(a.Host)}</td><td data-label="message" class="msg">{H(a.Message)}</td><td data-label="state" class="state">{H(a.State)}</td></tr>

                """);
        sb.Append("</tbody></table></section>\n");
    }

    private static string M(decimal d) => d.ToString("0.00", Inv);

    private static void AppendLedger(StringBuilder sb, PayoutReport? r)
    {
        sb.Append("<section id=\"ledger\">");
        if (r is null)
        {
            sb.Append("<h2>This month's ledger</h2><p class=\"quiet\">Could not be computed just now.</p></section>\n");
            return;
        }
        sb.Append(Inv, $"""
            <h2>This month's ledger: {H(r.Month)}{(r.Provisional ? " so far" : "")}</h2>
            <p class="note">Amounts in {H(r.Currency)}; days in {H(r.TimeZoneId)}. Today counts as if duty stays as it is until midnight; held bonuses wait for <code>lars report</code>.</p>

            """);
        AppendChart(sb, r);
        sb.Append("<div class=\"scroll\"><table class=\"ledger\"><thead><tr><th>person</th><th>duty h</th><th class=\"detail\">stipend</th><th>pages</th><th class=\"detail\">bonus paid</th><th>held</th><th class=\"detail\">docked</th><th>total</th></tr></thead><tbody>\n");
        foreach (var p in r.Rows.Append(r.Totals))
            sb.Append(Inv, $"""
                <tr{(p.PersonId == "TOTAL" ? " class=\"total\"" : "")}><td>{H(p.Name)}</td><td>{M(p.DutyHours)}</td><td class="detail">{M(p.Stipend)}</td><td>{p.PagesAnswered}</td><td class="detail">{M(p.BonusPaid)}</td><td>{M(p.BonusHeld)}</td><td class="detail">{M(p.DockedIn - p.DockedOut)}</td><td>{M(p.Total)}</td></tr>

                """);
        sb.Append("</tbody></table></div></section>\n");
    }

    /// <summary>One bar per person: what is paid (stipend, bonuses, docking in, less docking out) and, paler, what is held.</summary>
    private static void AppendChart(StringBuilder sb, PayoutReport r)
    {
        const int labelW = 120, barW = 200, valueW = 100, rowH = 24;
        var scale = Math.Max(1m, r.Rows.Select(p => Math.Max(0, p.Total) + p.BonusHeld).DefaultIfEmpty(1m).Max());
        var width = labelW + barW + valueW;
        sb.Append(Inv, $"""
            <svg class="chart" viewBox="0 0 {width} {r.Rows.Count * rowH + 4}" width="100%" role="img" aria-label="payout so far per person" xmlns="http://www.w3.org/2000/svg">

            """);
        for (var i = 0; i < r.Rows.Count; i++)
        {
            var p = r.Rows[i];
            var y = i * rowH + 2;
            var paid = (int)Math.Round(Math.Max(0, p.Total) / scale * barW);
            var held = (int)Math.Round(p.BonusHeld / scale * barW);
            sb.Append(Inv, $"""
                <text x="0" y="{y + 17}" font-size="14" fill="currentColor">{H(p.Name)}</text><rect x="{labelW}" y="{y + 3}" width="{paid}" height="18" fill="#3b7dd8"><title>{H(p.Name)}: {M(p.Total)} paid</title></rect><rect x="{labelW + paid}" y="{y + 3}" width="{held}" height="18" fill="#b8c7dc"><title>{H(p.Name)}: {M(p.BonusHeld)} held</title></rect><text x="{labelW + barW + 6}" y="{y + 17}" font-size="14" fill="currentColor">{M(p.Total)}{(p.BonusHeld > 0 ? $" +{M(p.BonusHeld)}" : "")}</text>

                """);
        }
        sb.Append("</svg>\n");
    }

    private static void AppendReports(StringBuilder sb, IReadOnlyList<ReportMonth> reports, string query)
    {
        sb.Append("<section id=\"reports\"><h2>Payout reports</h2>\n");
        if (reports.Count == 0) sb.Append("<p class=\"quiet\">None yet: the first is written on the 1st of next month.</p>\n");
        else sb.Append("<ul>\n");
        foreach (var m in reports)
        {
            sb.Append(Inv, $"<li>{H(m.Month)}: ");
            sb.AppendJoin(" · ", m.Files.Select(f => $"<a href=\"reports/{H(Uri.EscapeDataString(f))}{H(query)}\">{H(Path.GetExtension(f).TrimStart('.'))}</a>"));
            sb.Append("</li>\n");
        }
        if (reports.Count > 0) sb.Append("</ul>\n");
        sb.Append("</section>\n");
    }

    // Phone first: one column, big type for the two facts that matter; cards side by side from tablet width up.
    private const string Css = """
        :root { color-scheme: light dark; --fg: #1d2330; --muted: #667085; --line: #d9dee7; --card: #f5f7fa; --ok: #1f7a3a; --warn: #b54708; --bad: #b42318; }
        @media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #98a2b3; --line: #344054; --card: #1d2430; } body { background: #10151d; } }
        * { box-sizing: border-box; }
        body { font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: var(--fg); }
        header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .3em 1em; padding: .7em 1em; border-bottom: 1px solid var(--line); }
        h1 { font-size: 1.25em; margin: 0; }
        h2 { font-size: 1.05em; margin: 1.2em 0 .4em; }
        .card h2 { margin-top: 0; color: var(--muted); font-weight: 600; font-size: .85em; text-transform: uppercase; letter-spacing: .05em; }
        main, footer { padding: 0 1rem; max-width: 1100px; margin: 0 auto; }
        footer { color: var(--muted); font-size: .85em; padding-bottom: 2em; }
        .conn { color: var(--muted); font-size: .85em; }
        .conn.lost { color: var(--bad); font-weight: 600; }
        .cards { display: grid; grid-template-columns: 1fr; gap: .8em; margin-top: 1em; }
        @media (min-width: 700px) { .cards { grid-template-columns: 1fr 1fr; } }
        .card { background: var(--card); border-radius: 10px; padding: .8em 1em; border-left: 6px solid var(--line); }
        .card p { margin: .2em 0; }
        .big { font-size: 1.5em; font-weight: 700; }
        .mode.normal { border-left-color: var(--ok); }
        .mode.acked { border-left-color: var(--warn); }
        .nobody { border-left-color: var(--bad); }
        .contacts { list-style: none; padding: 0; margin: .3em 0 0; display: flex; flex-wrap: wrap; gap: .2em 1em; }
        .note, .quiet { color: var(--muted); }
        .open { border: 2px solid var(--bad); border-radius: 10px; padding: .5em 1em; margin: .5em 0; }
        .open.counting .countdown { font-size: 1.6em; font-weight: 800; color: var(--bad); font-variant-numeric: tabular-nums; }
        .open ul { margin: .2em 0; padding-left: 1.2em; }
        .what { margin: .2em 0; font-weight: 600; }
        .host { font-weight: 700; }
        .countdown { font-variant-numeric: tabular-nums; }
        table { border-collapse: collapse; width: 100%; font-size: .92em; }
        th, td { text-align: left; padding: .35em .5em; border-bottom: 1px solid var(--line); vertical-align: top; }
        td.msg { overflow-wrap: anywhere; }
        tr.urgent td:nth-child(3) { color: var(--bad); font-weight: 700; }
        tr.total td { font-weight: 700; }
        .ledger td:not(:first-child), .ledger th:not(:first-child) { text-align: right; }
        .chart { max-width: 480px; display: block; margin: .5em 0; }
        code { font-size: .95em; }
        a { color: #3b7dd8; }
        .scroll { overflow-x: auto; }
        @media (max-width: 600px) {
          #recent table, #recent tbody, #recent tr { display: block; }
          #recent thead { display: none; }
          #recent tr { padding: .45em 0; border-bottom: 1px solid var(--line); }
          #recent td { display: inline; border: 0; padding: 0 .5em 0 0; }
          #recent td:first-child::before { content: "#"; }
          #recent td.msg, #recent td.state { display: block; padding: 0; }
          #recent td.state { color: var(--muted); }
          .ledger .detail { display: none; } /* the chart and the total say it; the reports have every column */
          .ledger th, .ledger td { padding: .3em .35em; }
        }
        """;

    // Polls the server-rendered live part every 1.5 s and ticks the countdowns every 250 ms in between, against the
    // server's clock (data-now), so a phone with a wrong clock still counts down right.
    private const string Script = """
        (function () {
          var live = document.getElementById('live'), conn = document.getElementById('conn');
          var offset = 0, lastOk = Date.now();
          function sync() { var s = live.querySelector('.snap'); if (s) offset = Number(s.getAttribute('data-now')) - Date.now(); }
          function fmt(ms) {
            var s = Math.max(0, Math.ceil(ms / 1000));
            if (s < 120) return s + ' s';
            var m = Math.floor(s / 60);
            return m < 120 ? m + 'm ' + (s % 60) + 's' : Math.floor(m / 60) + 'h ' + (m % 60) + 'm';
          }
          function tick() {
            var now = Date.now() + offset, els = live.querySelectorAll('[data-until]');
            for (var i = 0; i < els.length; i++) els[i].textContent = fmt(Number(els[i].getAttribute('data-until')) - now);
            var age = Math.round((Date.now() - lastOk) / 1000);
            if (age > 5) { conn.textContent = 'no update for ' + age + ' s: retrying'; conn.className = 'conn lost'; }
          }
          function poll() {
            fetch('live' + location.search, { cache: 'no-store', credentials: 'same-origin' })
              .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.text(); })
              .then(function (html) {
                live.innerHTML = html; sync(); lastOk = Date.now(); tick();
                conn.textContent = 'live, updated ' + new Date().toLocaleTimeString(); conn.className = 'conn';
              })
              .catch(function () { })
              .then(function () { setTimeout(poll, 1500); });
          }
          sync(); tick(); setInterval(tick, 250); setTimeout(poll, 1500);
        })();
        """;
}
