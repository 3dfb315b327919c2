//! The digest as Markdown: short enough to paste into a ticket, with a link to every moment.
//!
//! Everything the recording or a backend said (user ids, traits, page titles, log messages)
//! is written as one line of text with Markdown's punctuation escaped, or as code, so it can
//! add no heading, link, image or line of its own to the ticket; a URL in it is written as code,
//! which ticketing tools don't turn into a link.

use std::fmt::Write as _;

use super::{Digest, Problem, ProblemKind};

/// Renders `digest` as Markdown.
pub fn to_markdown(digest: &Digest) -> String {
    let mut out = String::new();
    let who = &digest.who;
    let name = who.email.as_deref().or(who.user_id.as_deref()).map_or_else(|| "Anonymous user".to_owned(), text);
    let _ = writeln!(out, "# Session of {name}\n");
    if let Some(headline) = &digest.headline {
        let _ = writeln!(out, "**{}**\n", text(headline));
    }
    let _ = writeln!(out, "[Open the session in Sightline]({})\n", digest.link);

    let _ = writeln!(out, "**Who**");
    if let Some(user) = &who.user_id {
        let email = who.email.as_deref().map(|e| format!(" ({})", text(e))).unwrap_or_default();
        let _ = writeln!(out, "- User: {}{email}", text(user));
    }
    if let Some(traits) = who.traits.as_object().filter(|t| !t.is_empty()) {
        let listed: Vec<String> = traits.iter().map(|(k, v)| format!("{}: {}", text(k), text(&plain(v)))).collect();
        let _ = writeln!(out, "- Traits: {}", listed.join(", "));
    }
    let device: Vec<&str> =
        [who.browser.as_str(), who.os.as_str(), who.device.as_str()].into_iter().filter(|s| !s.is_empty()).collect();
    if !device.is_empty() {
        let _ = writeln!(out, "- Device: {}", text(&device.join(", ")));
    }
    let locale: Vec<&str> =
        [who.locale.as_str(), who.timezone.as_str()].into_iter().filter(|s| !s.is_empty()).collect();
    if !locale.is_empty() {
        let _ = writeln!(out, "- Locale: {}", text(&locale.join(", ")));
    }
    let place: Vec<&str> = [who.city.as_deref(), who.country.as_deref()].into_iter().flatten().collect();
    if !place.is_empty() {
        let _ = writeln!(out, "- Where: {}", text(&place.join(", ")));
    }

    let _ = writeln!(out, "\n**When**");
    let _ = writeln!(
        out,
        "- {} to {} UTC ({})",
        utc(digest.start),
        utc(digest.end).get(11..).unwrap_or_default(),
        duration(digest.duration_ms)
    );
    if !digest.pages.is_empty() {
        let _ = writeln!(out, "\n**Pages**");
        for (i, page) in digest.pages.iter().enumerate() {
            let _ =
                writeln!(out, "{}. {} {}", i + 1, offset(page.time.saturating_sub(digest.start)), text(&page.summary));
        }
    }

    let _ = writeln!(out, "\n## Problems ({})\n", digest.problems.len() + digest.more_problems);
    if digest.problems.is_empty() {
        let _ = writeln!(out, "None recorded.");
    }
    for (i, problem) in digest.problems.iter().enumerate() {
        write_problem(&mut out, i + 1, problem);
    }
    if digest.more_problems > 0 {
        let _ = writeln!(out, "…and {} more in the viewer.", digest.more_problems);
    }
    if !digest.notes.is_empty() {
        let _ = writeln!(out, "\n## Notes\n");
        for note in &digest.notes {
            let _ = writeln!(
                out,
                "- {} {}: {} ([watch]({}))",
                offset(note.offset_ms),
                text(&note.author),
                text(&note.text),
                note.link
            );
        }
    }
    out
}

fn kind_name(kind: ProblemKind) -> &'static str {
    match kind {
        ProblemKind::JsError => "JS error",
        ProblemKind::ConsoleError => "Console error",
        ProblemKind::ErrorShown => "Error shown",
        ProblemKind::FailedRequest => "Failed request",
        ProblemKind::RageClick => "Rage click",
        ProblemKind::DeadClick => "Dead click",
        ProblemKind::ErrorClick => "Error click",
        ProblemKind::SlowRequest => "Slow request",
        ProblemKind::Feedback => "User report",
    }
}

fn write_problem(out: &mut String, n: usize, p: &Problem) {
    let kind = kind_name(p.kind);
    let _ = writeln!(out, "### {n}. {kind} at {}: {}\n", offset(p.offset_ms), text(&p.summary));
    let _ = writeln!(out, "[Watch this moment]({})\n", p.link);
    if p.kind == ProblemKind::Feedback {
        // The user's words, quoted whole (each line escaped as any recorded text is).
        for line in p.detail.lines().filter(|l| !l.trim().is_empty()).take(40) {
            // A line of `===` or `---` under another would make it a heading, `1.` a list:
            // the first character is escaped when it could start a block.
            let line = text(line.trim());
            let starts_block =
                line.starts_with(['=', '-', '+', '*', '#', '>', '|']) || line.starts_with(char::is_numeric);
            let _ = writeln!(out, "> {}{line}", if starts_block { "\\" } else { "" });
        }
        out.push('\n');
    } else if let Some(first) = p.detail.lines().find(|l| !l.trim().is_empty()) {
        let _ = writeln!(out, "{}\n", code(first.trim()));
    }
    if !p.steps.is_empty() {
        let _ = writeln!(out, "Last steps:");
        for step in &p.steps {
            let before = p.time.saturating_sub(step.time);
            let _ = writeln!(out, "- {} before: {}", duration(before), text(&step.summary));
        }
        out.push('\n');
    }
    if let Some(r) = &p.request {
        let status =
            if r.status == 0 { r.error.clone().unwrap_or_else(|| "no response".into()) } else { r.status.to_string() };
        let request = code(&format!("{} {}", r.method, r.url));
        let _ = write!(out, "Request: {request} → {} in {} ms", text(&status), r.duration_ms);
        if let Some(trace) = &r.trace {
            let _ = write!(out, ", trace {}", code(trace));
        }
        out.push_str("\n\n");
    }
    if let Some(backend) = &p.backend {
        if backend.logs.is_empty() && backend.spans.is_empty() {
            let _ = writeln!(out, "Backend: nothing received for this trace.\n");
        } else {
            let _ = writeln!(out, "Backend:");
            for log in &backend.logs {
                let _ = writeln!(out, "- log {} {}: {}", text(&log.severity), text(&log.service), text(&log.message));
            }
            for span in &backend.spans {
                let status = if span.status_message.is_empty() {
                    span.status.clone()
                } else {
                    format!("{} ({})", span.status, span.status_message)
                };
                let _ = writeln!(
                    out,
                    "- span {} {} {}: {}, {:.0} ms",
                    text(&span.service),
                    code(&span.name),
                    span.kind,
                    text(&status),
                    span.duration_ms
                );
            }
            out.push('\n');
        }
    }
    if !p.related.is_empty() {
        let _ = writeln!(out, "Also from the same action:");
        for related in &p.related {
            let _ = writeln!(
                out,
                "- {} at {}: {}",
                kind_name(related.kind),
                offset(related.offset_ms),
                text(&related.summary)
            );
        }
        out.push('\n');
    }
}

/// Untrusted text as one line of Markdown that reads as the text itself, with what a
/// ticketing tool would make a link of (`scheme://…`, `www.…`) as code.
pub(crate) fn text(untrusted: &str) -> String {
    let line = one_line(untrusted);
    let mut out = String::with_capacity(line.len());
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.contains("://") || word.to_ascii_lowercase().starts_with("www.") || word.contains('@') {
            out.push_str(&code(word));
            continue;
        }
        // A selector in parentheses or ending a clause: the selector as code, the rest as text.
        let core = word.trim_start_matches('(').trim_end_matches([')', ',', ':', ';']);
        if is_selector(core) {
            let at = word.find(core).unwrap_or(0);
            escaped(&mut out, &word[..at]);
            out.push_str(&code(core));
            escaped(&mut out, &word[at + core.len()..]);
            continue;
        }
        escaped(&mut out, word);
    }
    out
}

/// Text with what Markdown would read as markup escaped; parentheses stay as they are, since
/// with brackets escaped they make no link.
fn escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '!' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// `button#send`, `input.new-todo`: a tag with one id or class, as the digest names elements.
fn is_selector(word: &str) -> bool {
    let Some(split) = word.find(['#', '.']) else { return false };
    let (tag, rest) = word.split_at(split);
    let name = &rest[1..];
    tag.starts_with(|c: char| c.is_ascii_lowercase())
        && tag.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

/// Untrusted text as inline code: one line, fenced by more backticks than it holds in a row.
fn code(untrusted: &str) -> String {
    let line = one_line(untrusted);
    let mut longest = 0;
    let mut run = 0;
    for c in line.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if line.starts_with('`') || line.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{line}{pad}{fence}")
}

fn one_line(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 200 {
        line.chars().take(199).chain(['…']).collect()
    } else {
        line
    }
}

fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `m:ss` from the start of the session.
fn offset(ms: u64) -> String {
    let seconds = ms / 1000;
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

/// A duration as people say it: `350 ms`, `4.2 s`, `3 min 5 s`.
fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000),
    }
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
fn utc(ms: u64) -> String {
    let seconds = ms / 1000;
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// The proleptic Gregorian date `days` after 1970-01-01 (the "days from civil" inverse in
/// Howard Hinnant's date algorithms).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_adds_no_markup() {
        assert_eq!(text("![x](https://evil.example)\n# Heading"), "`![x](https://evil.example)` \\# Heading");
        assert_eq!(
            text("Went to https://evil.example/x and www.evil.example"),
            "Went to `https://evil.example/x` and `www.evil.example`"
        );
        assert_eq!(text("mail jane@acme.com"), "mail `jane@acme.com`", "no mailto link either");
        assert_eq!(
            text("Click the \"Send\" button (button#send-now), then input.new-todo: done. #1"),
            "Click the \"Send\" button (`button#send-now`), then `input.new-todo`: done. \\#1"
        );
        assert_eq!(text("a_b*c<script>"), "a\\_b\\*c\\<script\\>");
        assert_eq!(code("GET /a"), "`GET /a`");
        assert_eq!(code("x ``y`` z"), "```x ``y`` z```");
        assert_eq!(code("`tick"), "`` `tick ``");
    }

    #[test]
    fn dates_and_durations_read_naturally() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_795_780_862_000), "2026-11-27 12:01:02");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(duration(350), "350 ms");
        assert_eq!(duration(4_200), "4.2 s");
        assert_eq!(duration(185_000), "3 min 5 s");
        assert_eq!(offset(61_500), "1:01");
    }
}
