//! The three network modes end to end. `--net host`: a guest client
//! fetches from a server the test runs on the host, and a host client
//! fetches from a server in the guest. `--net loopback`: python's
//! http.server and a client in the same guest (Debian test root).
//! `--net none`: the errno values of a fresh network namespace
//! (`unshare -rn`, when the host allows it). Only 127.0.0.1 is used.
//! The semantics in detail are tests/programs/u_inet.c, compared with
//! native in userland_programs.rs.

mod common;

use common::{c_program, run_with_timeout, wax_run, Compare, Invocation};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(60);

/// A token no earlier run could have left anywhere.
fn token(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{what}-{}-{nanos}", std::process::id())
}

#[test]
fn host_mode_guest_client_reaches_a_host_server() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a host test server");
    let port = listener.local_addr().expect("its address").port();
    let body = token("from-host");
    let reply = body.clone();
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().expect("accepting the guest");
        let mut req = [0u8; 1024];
        let n = c.read(&mut req).expect("reading the request");
        let head = String::from_utf8_lossy(&req[..n]).into_owned();
        write!(c, "HTTP/1.0 200 OK\r\n\r\n{reply}").expect("answering");
        head
    });
    let mut cmd = wax_run();
    cmd.args(["--net", "host"])
        .arg(c_program("u_netpeer"))
        .args(["get", &port.to_string()]);
    let run = run_with_timeout(cmd, b"", TIMEOUT);
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        out.ends_with(&body),
        "the guest did not print the host's reply: {out:?} (stderr {})",
        run.stderr_text()
    );
    let head = server.join().expect("the server thread");
    assert!(head.starts_with("GET / HTTP/1.0"), "request: {head:?}");
}

#[test]
fn host_mode_host_client_reaches_a_guest_server() {
    let body = token("from-guest");
    let mut child = Command::new(common::WAX)
        .args(["run", "--net", "host"])
        .arg(c_program("u_netpeer"))
        .args(["serve", &body])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting wax");
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    out.read_line(&mut line).expect("reading the port");
    let port: u16 = line.trim().parse().unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("the guest server printed {line:?} instead of its port")
    });
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connecting to the guest");
    c.set_read_timeout(Some(TIMEOUT)).expect("a timeout");
    c.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("sending");
    let mut reply = String::new();
    c.read_to_string(&mut reply).expect("reading the reply");
    let status = child.wait().expect("waiting for wax");
    assert!(reply.ends_with(&body), "reply: {reply:?}");
    assert!(reply.starts_with("HTTP/1.0 200 OK\r\n"), "reply: {reply:?}");
    assert!(status.success(), "wax: {status:?}");
}

/// http.server serves a file of the root to urllib in the same guest,
/// entirely inside the machine (the port is the machine's own, so a
/// fixed one cannot collide with the host's).
#[test]
fn loopback_mode_python_http_server_and_client() {
    let root = common::corpus::debian_root();
    let script = r#"
python3 -m http.server 8000 --bind 127.0.0.1 -d /etc >/dev/null 2>&1 &
python3 - <<'PY'
import time, urllib.request
for i in range(400):
    try:
        body = urllib.request.urlopen("http://127.0.0.1:8000/debian_version").read()
        break
    except OSError:
        time.sleep(0.05)
print(body.decode().strip())
PY
kill $!
"#;
    let mut cmd = wax_run();
    cmd.args(["--net", "loopback", "--root"])
        .arg(&root)
        .args(["/bin/sh", "-c", script]);
    let run = run_with_timeout(cmd, b"", Duration::from_secs(180));
    let want = std::fs::read_to_string(root.join("etc/debian_version")).expect("the root's file");
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        want.trim(),
        "stderr: {}",
        run.stderr_text()
    );
}

/// `--net none` gives what a fresh network namespace gives natively.
#[test]
fn none_mode_matches_an_empty_network_namespace() {
    let usable = Command::new("unshare")
        .args(["-rn", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !usable {
        eprintln!("unshare -rn is not available here: comparing --net none is skipped");
        return;
    }
    let program = c_program("u_netdown");
    let native = Invocation::new("unshare")
        .args(["-rn".into(), program.clone().into_os_string()])
        .timeout(TIMEOUT)
        .run_native();
    let mut cmd = wax_run();
    cmd.args(["--net", "none"]).arg(&program);
    let wax = run_with_timeout(cmd, b"", TIMEOUT);
    let inv = Invocation::new(&program);
    if let Some(d) = common::differences(&inv, &native, &wax, Compare::StdoutAndStatus) {
        panic!("--net none differs from unshare -rn:\n{d}");
    }
}
