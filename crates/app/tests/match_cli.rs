//! The `lantern match batch` contract the project's evaluations rely on:
//! CSV in, ranked candidates out, refused rows named by line with a
//! non-zero exit at the end.

use std::process::Command;

const HEAD: &str = "id,name,aliases,sex,birth_date,birth_place,nationality,father_name,mother_name\n";

fn run(registry: &str, queries: &str, extra: &[&str]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (r, q) = (dir.path().join("r.csv"), dir.path().join("q.csv"));
    std::fs::write(&r, format!("{HEAD}{registry}")).unwrap();
    std::fs::write(&q, format!("{HEAD}{queries}")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lantern"))
        .args(["match", "batch", "--registry"])
        .arg(&r)
        .arg("--queries")
        .arg(&q)
        .args(["--top", "2"])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn fields_decide_between_namesakes() {
    // Two registered namesakes; the query's birth year and father's name
    // point to the second, written in the other script.
    let registry = "p1,مسعود کریمی,,m,1950,مشهد,IR,علی,\np2,مسعود کریمی,,m,1985-04-02,تبریز,IR,حسن,\n";
    let queries = "q1,Masoud Karimi,,m,1986,Tabriz,,Hassan,\n";
    let (ok, out, err) = run(registry, queries, &[]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "query_id,rank,person_id,probability");
    assert!(lines[1].starts_with("q1,1,p2,"), "{out}");
    assert!(lines[2].starts_with("q1,2,p1,"), "{out}");
    let p = |l: &str| l.rsplit(',').next().unwrap().parse::<f64>().unwrap();
    assert!(p(lines[1]) > 0.5 && p(lines[2]) < 0.1, "{out}");
}

#[test]
fn refused_rows_are_named_and_the_run_goes_on() {
    let registry = "p1,Reza,,,1970,,,,\np2,,,,,,,,\np3,Ali,,,19x0,,,,\n";
    let (ok, out, err) = run(registry, "q1,Reza,,,,,,,\n", &["--estimate"]);
    assert!(!ok, "a refused row makes the run fail at the end");
    assert!(out.contains("q1,1,p1,"), "the good rows are still matched: {out}");
    assert!(err.contains("line 3: name: required"), "{err}");
    assert!(err.contains("line 4: birth_date"), "{err}");
    assert!(err.contains("--estimate: fewer than 200 queries"), "{err}");
}

#[test]
fn dedupe_writes_clusters_and_the_pairs_to_review() {
    let dir = tempfile::tempdir().unwrap();
    let (registry, review) = (dir.path().join("r.csv"), dir.path().join("review.csv"));
    std::fs::write(
        &registry,
        format!(
            "{HEAD}p1,مسعود کریمی,,m,1970,مشهد,IR,علی,\np2,Masoud Karimi,,m,1970,Mashhad,IR,Ali,\n\
             p3,Zahra Hosseini,,f,1985,Tabriz,IR,Reza,\np4,,,,,,,,\n"
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lantern"))
        .args(["match", "dedupe", "--registry"])
        .arg(&registry)
        .arg("--review")
        .arg(&review)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert!(!out.status.success(), "the refused row fails the run at the end");
    assert!(stderr.contains("line 5: name: required"), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "cluster_id,person_id,probability");
    assert_eq!(lines.len(), 3, "one cluster of two: {stdout}");
    assert!(
        lines[1].starts_with("c1,p1,") && lines[2].starts_with("c1,p2,"),
        "{stdout}"
    );
    let review = std::fs::read_to_string(&review).unwrap();
    assert!(review.starts_with("person_id,other_id,probability"), "{review}");
}

#[test]
fn a_reader_that_stops_reading_ends_the_output_quietly() {
    use std::io::{BufRead, BufReader};
    // Enough results to fill the pipe, so that writing meets the closed end
    // (`lantern match batch … | head`).
    let dir = tempfile::tempdir().unwrap();
    let (r, q) = (dir.path().join("r.csv"), dir.path().join("q.csv"));
    let registry: String = (0..50)
        .map(|i| format!("p{i},Reza Karimi,,,{},,,,\n", 1950 + i))
        .collect();
    let queries: String = (0..5_000).map(|i| format!("q{i},Reza Karimi,,,,,,,\n")).collect();
    std::fs::write(&r, format!("{HEAD}{registry}")).unwrap();
    std::fs::write(&q, format!("{HEAD}{queries}")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lantern"))
        .args(["match", "batch", "--registry"])
        .arg(&r)
        .arg("--queries")
        .arg(&q)
        .args(["--top", "10"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "query_id,rank,person_id,probability\n");
    // The reader is dropped here: the rest of the output has nowhere to go.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.is_empty(), "no error for a closed pipe: {stderr}");
}
