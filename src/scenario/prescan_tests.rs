use super::*;

fn refusal(text: &str) -> Option<(usize, usize, RefusalKind)> {
    check(text).err().map(|r| (r.line, r.column, r.kind))
}

#[test]
fn a_deep_flow_sequence_is_refused_where_it_crosses_the_limit() {
    let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    // `a:` is one block level; the 64th bracket makes 65 levels.
    assert_eq!(refusal(&deep), Some((1, 4 + 63, RefusalKind::TooDeep)));
    let fine = format!("a: {}{}\n", "[".repeat(63), "]".repeat(63));
    assert_eq!(refusal(&fine), None);
}

#[test]
fn deep_block_nesting_is_refused_too() {
    // `- - - ... x` on one line: one block sequence inside another, 100,000 deep.
    let dashes = format!("a:\n  {}x\n", "- ".repeat(100_000));
    let (line, column, kind) = refusal(&dashes).unwrap_or_else(|| panic!("accepted"));
    assert_eq!((line, kind), (2, RefusalKind::TooDeep));
    assert!(column < 200, "{column}");
    // Indentation alone.
    let mut indented = String::new();
    for level in 0..70 {
        indented.push_str(&format!("{}k{level}:\n", " ".repeat(level)));
    }
    assert_eq!(refusal(&indented), Some((65, 65, RefusalKind::TooDeep)));
    indented.truncate(indented.find("k64").unwrap_or(0));
    assert_eq!(refusal(&indented), None);
}

#[test]
fn brackets_in_quotes_comments_and_block_scalars_are_text() {
    let many = "[".repeat(100);
    let texts = [
        format!("a: \"{many}\"\n"),
        format!("a: '{many}'\nb: 'it''s [{many}'\n"),
        format!("a: 1 # {many}\n# {many}\n"),
        format!("a: |\n  {many}\n  {many}\nb: 1\n"),
        format!("- key: >-\n    {many}\n  other: 1\n"),
        format!("a: x{many}\n"),
    ];
    for text in texts {
        assert_eq!(refusal(&text), None, "{text}");
    }
    // After a block scalar, what is less indented is read again.
    let after = format!("- key: |\n    text\n  other: {}\n", "[".repeat(100));
    assert!(matches!(
        refusal(&after),
        Some((3, _, RefusalKind::TooDeep))
    ));
}

#[test]
fn aliases_are_counted_as_the_values_they_repeat() {
    // 1,001 values (the list and its items), 998 times with the keys: within the bound.
    let list = vec!["1"; 1000].join(", ");
    let mut text = format!("a: &a [{list}]\nb: [");
    text.push_str(&vec!["*a"; 997].join(", "));
    text.push_str("]\n");
    assert!(check(&text).is_ok());
    // Once more crosses it, at that alias.
    text.push_str("c: *a\n");
    assert_eq!(
        refusal(&text),
        Some((
            3,
            4,
            RefusalKind::TooManyNodes {
                name: "a".to_string()
            }
        ))
    );
    // A block anchor ends where its block does.
    let block = format!("a: &a\n  x: [{list}]\nb: 1\nc: *a\n");
    assert!(check(&block).is_ok());
    let summary = check(&block).unwrap_or_default();
    assert_eq!(summary.first_alias, Some((4, 4)));
}
