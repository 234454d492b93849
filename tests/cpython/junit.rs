//! The junit files `python3 -m test --junit-xml FILE` writes
//! (Lib/test/support/testresult.py): one `<testcase name="test.MODULE.Class.method">`
//! per test, with a `<skipped>`, `<failure>` or `<error>` child when it did
//! not pass, `<output>` for an expected failure and `<outcome>` for an
//! unexpected success.
//!
//! A test whose subtests failed gets an element without a name (unittest
//! reports subtest failures without ending the test through the result's
//! add* methods). Tests run in the same order natively and under wax, so
//! such an element is named after the test before it.

use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Skip,
    Fail,
}

/// Test id → outcome and, for a failure or skip, the first line of its
/// message (the exception, or the skip reason).
pub type Results = BTreeMap<String, (Outcome, String)>;

/// Parses a junit file's text.
pub fn parse(xml: &str) -> Result<Results, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("bad junit XML: {e}"))?;
    let mut out = Results::new();
    let mut previous = String::from("(start)");
    for case in doc.descendants().filter(|n| n.has_tag_name("testcase")) {
        let name = match case.attribute("name") {
            Some(n) => n.to_string(),
            None => format!("{previous} (next test, subtests failed)"),
        };
        let outcome = if case.attribute("name").is_none() {
            (Outcome::Fail, String::new())
        } else {
            outcome_of(case)
        };
        previous.clone_from(&name);
        out.insert(name, outcome);
    }
    Ok(out)
}

fn outcome_of(case: roxmltree::Node<'_, '_>) -> (Outcome, String) {
    let child = |tag: &str| case.children().find(|c| c.has_tag_name(tag));
    let first_line = |n: roxmltree::Node<'_, '_>| {
        let text = n.attribute("message").or(n.text()).unwrap_or("");
        text.trim().lines().last().unwrap_or("").to_string()
    };
    if let Some(n) = child("failure").or(child("error")) {
        (Outcome::Fail, first_line(n))
    } else if child("outcome").is_some() {
        (Outcome::Fail, "unexpected success".into())
    } else if let Some(n) = child("skipped") {
        (Outcome::Skip, first_line(n))
    } else {
        (Outcome::Pass, String::new())
    }
}

/// The compact form kept between sittings (and committed under
/// bench/results/cpython-suite/): one line per test, `P`, `S` or `F`, a
/// space, the test id, and for a skip or failure a tab and the first line
/// of its message (at most 200 characters).
pub fn to_lines(r: &Results) -> String {
    let mut out = String::new();
    for (id, (outcome, why)) in r {
        let tag = match outcome {
            Outcome::Pass => 'P',
            Outcome::Skip => 'S',
            Outcome::Fail => 'F',
        };
        out.push(tag);
        out.push(' ');
        out.push_str(id);
        if !why.is_empty() {
            let why: String = why
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .take(200)
                .collect();
            out.push('\t');
            out.push_str(&why);
        }
        out.push('\n');
    }
    out
}

/// Reads what [`to_lines`] wrote.
pub fn from_lines(text: &str) -> Result<Results, String> {
    let mut out = Results::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let bad = || format!("bad result line {line:?}");
        let (tag, rest) = line.split_once(' ').ok_or_else(bad)?;
        let outcome = match tag {
            "P" => Outcome::Pass,
            "S" => Outcome::Skip,
            "F" => Outcome::Fail,
            _ => return Err(bad()),
        };
        let (id, why) = rest.split_once('\t').unwrap_or((rest, ""));
        out.insert(id.to_string(), (outcome, why.to_string()));
    }
    Ok(out)
}

/// How many tests passed, were skipped and failed.
pub fn counts(r: &Results) -> [usize; 3] {
    let n = |o| r.values().filter(|v| v.0 == o).count();
    [n(Outcome::Pass), n(Outcome::Skip), n(Outcome::Fail)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_and_unnamed_cases() {
        let xml = r#"<testsuites tests="5"><testsuite tests="5">
            <testcase name="test.m.A.ok" status="run" result="completed" time="0.1" />
            <testcase name="test.m.A.skip" status="run" result="completed"><skipped>no fr_FR</skipped></testcase>
            <testcase name="test.m.A.bad" status="run" result="completed"><failure type="AssertionError" message="1 != 2">tb &lt;x&gt;</failure></testcase>
            <testcase />
            <testcase name="test.m.A.err"><system-out /><error type="OSError">tb</error></testcase>
            <testcase name="test.m.A.xfail"><output type="E">expected</output></testcase>
        </testsuite></testsuites>"#;
        let r = parse(xml).unwrap();
        let o = |t: &str| r[t].0;
        assert_eq!(o("test.m.A.ok"), Outcome::Pass);
        assert_eq!(r["test.m.A.skip"], (Outcome::Skip, "no fr_FR".to_string()));
        assert_eq!(r["test.m.A.bad"], (Outcome::Fail, "1 != 2".to_string()));
        assert_eq!(
            o("test.m.A.bad (next test, subtests failed)"),
            Outcome::Fail
        );
        assert_eq!(o("test.m.A.err"), Outcome::Fail);
        assert_eq!(o("test.m.A.xfail"), Outcome::Pass);
        assert_eq!(counts(&r), [2, 1, 3]);
    }

    #[test]
    fn lines_round_trip() {
        let mut r = Results::new();
        r.insert("test.m.A.ok".into(), (Outcome::Pass, String::new()));
        r.insert(
            "test.m.A.skip".into(),
            (Outcome::Skip, "no\ttabs\nhere".into()),
        );
        r.insert(
            "test.m.A.bad (next test, subtests failed)".into(),
            (Outcome::Fail, "1 != 2".into()),
        );
        let text = to_lines(&r);
        assert_eq!(text.lines().count(), 3);
        let back = from_lines(&text).unwrap();
        assert_eq!(
            back["test.m.A.skip"],
            (Outcome::Skip, "no tabs here".to_string())
        );
        assert_eq!(
            back["test.m.A.bad (next test, subtests failed)"].0,
            Outcome::Fail
        );
        assert_eq!(back["test.m.A.ok"], (Outcome::Pass, String::new()));
        assert!(from_lines("X test.m.A.ok").is_err());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse("<testsuites><testcase").is_err());
    }
}
