//! The comparison's outputs: a markdown table (median wall-clock times,
//! ratios to native, geometric means per group) and a JSON file with every
//! run for tracking over time.

use super::engines::Engine;
use super::machine::Machine;
use super::results::{geomean, Metric, Row, Verdict};
use super::workloads::Group;
use serde_json::{json, Value};
use std::fmt::Write;
use std::time::Duration;

/// How the comparison ran and what it reports.
#[derive(Clone, Copy, Debug)]
pub struct How {
    pub quick: bool,
    pub metric: Metric,
}

/// The markdown table.
pub fn markdown(rows: &[Row], engines: &[Engine], machine: &Machine, how: How) -> String {
    let mut s = String::new();
    let mode = if how.quick {
        "compare --quick"
    } else {
        "compare (full)"
    };
    let metric = how.metric.describe();
    let _ = writeln!(s, "{mode}, {metric}, on {}\n", machine.summary());
    let _ = write!(s, "| workload | command |");
    for e in engines {
        let _ = write!(s, " {} |", e.name());
    }
    let _ = write!(s, "\n|---|---|");
    for _ in engines {
        let _ = write!(s, "---:|");
    }
    s.push('\n');
    for group in Group::ALL {
        for row in rows.iter().filter(|r| r.workload.group == group) {
            table_row(&mut s, row, engines, how.metric);
        }
    }
    for group in Group::ALL {
        geomean_row(&mut s, rows, engines, group, how.metric);
    }
    notes(&mut s, rows);
    s
}

fn table_row(s: &mut String, row: &Row, engines: &[Engine], metric: Metric) {
    // A '|' inside a cell, even in code, ends the cell unless escaped.
    let command = row.command.replace('|', "\\|");
    let _ = write!(s, "| {} | `{command}` |", row.workload.name);
    for &e in engines {
        let _ = write!(s, " {} |", cell_text(row, e, metric));
    }
    s.push('\n');
}

fn cell_text(row: &Row, engine: Engine, metric: Metric) -> String {
    let Some(cell) = row.cell(engine) else {
        return "–".into();
    };
    match &cell.verdict {
        Verdict::Ok { .. } => {
            let t = seconds(cell.verdict.time(metric).unwrap_or_default());
            match row.ratio(engine, metric) {
                Some(r) if engine != Engine::Native => format!("{t} ({})", times(r)),
                _ => t,
            }
        }
        Verdict::Fail(why) if cell.known.is_some() => format!("fail: {why} (known)"),
        Verdict::Fail(why) => format!("**fail: {why}**"),
        Verdict::Skip(why) => format!("skip: {why}"),
    }
}

fn geomean_row(s: &mut String, rows: &[Row], engines: &[Engine], group: Group, metric: Metric) {
    let in_group: Vec<&Row> = rows.iter().filter(|r| r.workload.group == group).collect();
    if in_group.is_empty() {
        return;
    }
    let _ = write!(s, "| **geomean {}** | ratio to native |", group.name());
    for &e in engines {
        let text = match geomean(in_group.iter().filter_map(|r| r.ratio(e, metric))) {
            Some((g, n)) if n == in_group.len() => format!("**{}**", times(g)),
            Some((g, n)) => format!("**{}** ({n} of {})", times(g), in_group.len()),
            None => "–".into(),
        };
        let _ = write!(s, " {text} |");
    }
    s.push('\n');
}

/// Footnotes: why the known failures fail.
fn notes(s: &mut String, rows: &[Row]) {
    let mut first = true;
    for row in rows {
        for cell in &row.cells {
            if let (Some(reason), Verdict::Fail(_)) = (cell.known, &cell.verdict) {
                if first {
                    s.push_str("\nKnown failures:\n");
                    first = false;
                }
                let _ = writeln!(
                    s,
                    "- {} under {}: {reason}",
                    row.workload.name,
                    cell.engine.name()
                );
            }
        }
    }
}

/// "4.2 ms", "1.23 s", "12.3 s".
pub fn seconds(d: Duration) -> String {
    let v = d.as_secs_f64();
    if v < 0.1 {
        format!("{:.1} ms", v * 1000.0)
    } else if v < 10.0 {
        format!("{v:.2} s")
    } else {
        format!("{v:.1} s")
    }
}

/// "1.9×", "42×", "310×".
fn times(r: f64) -> String {
    if r < 10.0 {
        format!("{r:.1}×")
    } else {
        format!("{r:.0}×")
    }
}

/// Everything, for tracking: every run's times and checksums.
pub fn json(rows: &[Row], engines: &[Engine], machine: &Machine, how: How) -> Value {
    let workloads: Vec<Value> = rows.iter().map(|r| row_json(r, how.metric)).collect();
    let mut means = serde_json::Map::new();
    for group in Group::ALL {
        let in_group: Vec<&Row> = rows.iter().filter(|r| r.workload.group == group).collect();
        let per_engine: serde_json::Map<String, Value> = engines
            .iter()
            .filter_map(|&e| {
                let (g, n) = geomean(in_group.iter().filter_map(|r| r.ratio(e, how.metric)))?;
                Some((e.name().to_string(), json!({ "ratio": g, "workloads": n })))
            })
            .collect();
        means.insert(group.name().into(), Value::Object(per_engine));
    }
    json!({
        "schema": 1,
        "mode": if how.quick { "quick" } else { "full" },
        "metric": how.metric.describe(),
        "machine": {
            "cpu": machine.cpu,
            "cores": machine.cores,
            "kernel": machine.kernel,
            "date": machine.date,
            "commit": machine.commit,
            "qemu": machine.qemu,
            "load_average_start": machine.load_start,
            "load_average_end": machine.load_end,
        },
        "workloads": workloads,
        "geomean_ratio_to_native": means,
    })
}

fn row_json(row: &Row, metric: Metric) -> Value {
    let cells: serde_json::Map<String, Value> = row
        .cells
        .iter()
        .map(|c| {
            let (status, wall, cpu) = match &c.verdict {
                Verdict::Ok { wall, cpu } => (
                    "ok".to_string(),
                    Some(wall.as_secs_f64()),
                    Some(cpu.as_secs_f64()),
                ),
                Verdict::Fail(w) => (format!("fail: {w}"), None, None),
                Verdict::Skip(w) => (format!("skip: {w}"), None, None),
            };
            let value = json!({
                "status": status,
                "known_failure": c.known,
                "median_wall_s": wall,
                "median_cpu_s": cpu,
                "ratio_to_native": row.ratio(c.engine, metric),
                "runs_wall_s": c.runs.iter().map(|r| r.wall.as_secs_f64()).collect::<Vec<_>>(),
                "runs_cpu_s": c.runs.iter().map(|r| r.cpu.as_secs_f64()).collect::<Vec<_>>(),
                "checksum": c.runs.first().map(|r| format!("{:016x}", r.checksum)),
                "stdout_bytes": c.runs.first().map(|r| r.stdout_len),
            });
            (c.engine.name().to_string(), value)
        })
        .collect();
    json!({
        "name": row.workload.name,
        "group": row.workload.group.name(),
        "command": row.command,
        "engines": cells,
    })
}
