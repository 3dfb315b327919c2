//! Rules inserted or deleted inside grouping rules (`@media`, `@supports`, `@layer`, …) through
//! the CSSOM, applied to rules kept as text: the grouping rule's block is split into its
//! top-level rules (minding strings, comments and nested blocks), edited, and written back.

/// Grouping rules nest this deep at most in what is edited; real stylesheets nest two or three.
const MAX_DEPTH: usize = 8;
/// Bytes of a grouping rule that is edited at most: each edit rewrites the rule, so a recording
/// can't make a long series of edits cost more than this each. Larger rules wait for the next
/// keyframe, which records the sheet whole.
const MAX_EDITED: usize = 32 * 1024;

/// The grouping rule `text` with `rule` inserted at `path` (indexes into its nested rules,
/// outermost first), or the rule there deleted when `rule` is `None`. `None` when the path
/// doesn't fit the text, or is deeper or the rule larger than is edited.
pub fn edit_nested(text: &str, path: &[u32], rule: Option<&str>) -> Option<String> {
    if path.len() > MAX_DEPTH || text.len() + rule.map_or(0, str::len) > MAX_EDITED {
        return None;
    }
    let (&index, deeper) = path.split_first()?;
    let (header, mut rules) = split_block(text)?;
    let index = index as usize;
    if deeper.is_empty() {
        match rule {
            Some(rule) if index <= rules.len() => rules.insert(index, rule.to_owned()),
            None if index < rules.len() => {
                rules.remove(index);
            }
            _ => return None,
        }
    } else {
        let inner = rules.get(index)?;
        rules[index] = edit_nested(inner, deeper, rule)?;
    }
    let mut out = String::with_capacity(text.len() + rule.map_or(0, str::len));
    out.push_str(header.trim_end());
    out.push_str(" {");
    for rule in &rules {
        out.push_str("\n  ");
        out.push_str(rule);
    }
    out.push_str("\n}");
    Some(out)
}

/// A block rule's header (up to its `{`) and the top-level rules inside its block.
fn split_block(text: &str) -> Option<(&str, Vec<String>)> {
    let open = top_level(text, 0).find(|&(_, c, depth)| c == '{' && depth == 0)?.0;
    // Only at-rules group rules; a style rule's block holds declarations.
    if !text.trim_start().starts_with('@') {
        return None;
    }
    let close = text.trim_end().strip_suffix('}')?.len();
    if close <= open {
        return None;
    }
    let body = &text[open + 1..close];
    let mut rules = Vec::new();
    let mut start = 0;
    for (at, c, depth) in top_level(body, 0) {
        // A rule ends with the `}` closing its block, or a `;` outside any (`@import`-like).
        if depth == 0 && (c == '}' || c == ';') {
            let rule = body[start..=at].trim();
            if !rule.is_empty() && rule != ";" {
                rules.push(rule.to_owned());
            }
            start = at + 1;
        }
    }
    if !body[start..].trim().is_empty() {
        return None; // an unterminated rule: not something the CSSOM writes
    }
    Some((&text[..open], rules))
}

/// The characters of `text` outside strings and comments, each with its byte offset and the
/// block depth after it (a `{` counts in the depth it opens, a `}` in the one it returns to).
fn top_level(text: &str, depth: usize) -> impl Iterator<Item = (usize, char, usize)> + '_ {
    let mut chars = text.char_indices().peekable();
    let mut depth = depth;
    std::iter::from_fn(move || loop {
        let (at, c) = chars.next()?;
        match c {
            '"' | '\'' => {
                while let Some((_, d)) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == c {
                        break;
                    }
                }
            }
            '\\' => {
                chars.next();
            }
            '/' if chars.peek().is_some_and(|&(_, d)| d == '*') => {
                chars.next();
                let mut star = false;
                for (_, d) in chars.by_ref() {
                    if star && d == '/' {
                        break;
                    }
                    star = d == '*';
                }
            }
            '{' => {
                depth += 1;
                return Some((at, c, depth - 1));
            }
            '}' => {
                depth = depth.saturating_sub(1);
                return Some((at, c, depth));
            }
            _ => return Some((at, c, depth)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEDIA: &str = "@media (max-width: 600px) {\n  .a { color: red; }\n  .b { content: \"}\"; }\n}";

    #[test]
    fn a_rule_is_inserted_and_deleted_inside_a_media_rule() {
        let inserted = edit_nested(MEDIA, &[1], Some(".new { gap: 1px; }")).unwrap();
        assert_eq!(
            inserted,
            "@media (max-width: 600px) {\n  .a { color: red; }\n  .new { gap: 1px; }\n  .b { content: \"}\"; }\n}"
        );
        let deleted = edit_nested(&inserted, &[0], None).unwrap();
        assert_eq!(deleted, "@media (max-width: 600px) {\n  .new { gap: 1px; }\n  .b { content: \"}\"; }\n}");
        assert_eq!(edit_nested(MEDIA, &[3], Some(".x {}")), None, "past the end");
        assert_eq!(edit_nested(".plain { color: red; }", &[0], None), None, "not a grouping rule");
        let huge = format!("@media print {{ {} }}", ".a { x: 1; } ".repeat(4_000));
        assert_eq!(edit_nested(&huge, &[0], None), None, "larger than is edited");
        assert_eq!(edit_nested(MEDIA, &[0; 9], None), None, "deeper than is edited");
    }

    #[test]
    fn deeper_paths_edit_nested_groups() {
        let nested = "@supports (display: grid) { @media print { .p { margin: 0; } } /* } */ .q { x: 1; } }";
        let edited = edit_nested(nested, &[0, 1], Some(".r { y: 2; }")).unwrap();
        assert_eq!(
            edited,
            "@supports (display: grid) {\n  @media print {\n  .p { margin: 0; }\n  .r { y: 2; }\n}\n  /* } */ .q { x: 1; }\n}"
        );
    }
}
