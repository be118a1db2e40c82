//! `/raw HEX` and `/frame ...` (SPEC "Crafted frames"): the bytes reach the server as written,
//! behind what was queued before them, `--dump` decodes them, their own syntax errors are usage
//! errors before anything is sent, and the server's answer is judged as usual.

use crate::listen::Server as Listen;
use crate::support::hostile::{self, Hostile, Step};
use crate::support::{args, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_bytes_and_a_crafted_frame_arrive_in_command_order_and_show_in_the_dump() {
    let server = Hostile::start(vec![Step::AwaitFrames(4)]).await;
    let out = run(args(&[
        &server.url,
        "-x",
        "first",
        // A masked text frame "hello" with a zero key, byte by byte.
        "-x",
        "/raw 81 85 00000000 68656c6c6f",
        "-x",
        "/frame --opcode ping --fin 0 --rsv3 --mask 01020304 hi",
        "-x",
        "/frame --no-mask --opcode 0xB --hex ff",
        "--dump",
        "-w",
        "0.5",
    ]))
    .await;
    let frames = server.finish().await;
    type Seen = (bool, bool, u8, Option<[u8; 4]>, Vec<u8>);
    let seen: Vec<Seen> = frames
        .iter()
        .take(4)
        .map(|f| (f.fin, f.rsv3, f.opcode, f.mask, f.payload.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            (true, false, 1, seen[0].3, b"first".to_vec()),
            (true, false, 1, Some([0; 4]), b"hello".to_vec()),
            (false, true, 9, Some([1, 2, 3, 4]), b"hi".to_vec()),
            (true, false, 0xB, None, vec![0xff]),
        ],
        "stderr:\n{}",
        out.stderr
    );
    let err = &out.stderr;
    assert!(
        err.contains("bypass the WebSocket library"),
        "said once: {err}"
    );
    assert_eq!(
        err.matches("bypass the WebSocket library").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains(">> ") && err.contains("ping  MASK 01020304  len 2"),
        "{err}"
    );
    assert!(
        err.contains("8185 0000 0000 6865 6c6c 6f"),
        "the raw bytes in the dump: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_false_length_is_sent_as_declared() {
    // The frame declares 5 bytes but carries 3: the next 2 written (by /raw) complete it.
    let server = Hostile::start(vec![Step::AwaitFrames(1)]).await;
    let _ = run(args(&[
        &server.url,
        "-x",
        "/frame --len 5 --no-mask abc",
        "-x",
        "/raw 6465",
        "-w",
        "0.3",
    ]))
    .await;
    let frames = server.finish().await;
    let f = frames.first().expect("a frame");
    assert_eq!((f.payload_len, f.mask), (5, None), "{f:?}");
    assert_eq!(f.payload, b"abcde");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_frame_option_is_a_usage_error_and_nothing_is_sent() {
    let server = Hostile::start(vec![]).await;
    let out = run(args(&[
        &server.url,
        "-x",
        "hello",
        "-x",
        "/frame --opcode 99 x",
    ]))
    .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--opcode takes 0-15"), "{}", out.stderr);
    let out = run(args(&[&server.url, "-x", "/raw 8"])).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_answer_to_a_crafted_violation_is_judged_as_usual() {
    let server = Listen::start(&["--echo"]);
    let out = run(args(&[
        &server.url("/"),
        "-x",
        "/frame --rsv2 boom",
        "-w",
        "2",
    ]))
    .await;
    assert_eq!(out.code, 6, "{}", out.stderr);
    assert!(out.stderr.contains("1002"), "{}", out.stderr);
    let _ = hostile::close(1000, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_file_sends_crafted_frames_and_checks_them_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("crafted.ws");
    std::fs::write(
        &script,
        "# a reserved opcode, then a ping\n/frame --opcode 3 x\n/ping p\n",
    )
    .unwrap();
    let server = Hostile::start(vec![Step::AwaitFrames(2)]).await;
    let path = script.to_str().unwrap();
    let _ = run(args(&[&server.url, "--script", path, "-w", "0.3"])).await;
    let frames = server.finish().await;
    let ops: Vec<u8> = frames.iter().take(2).map(|f| f.opcode).collect();
    assert_eq!(ops, [3, 9]);
    std::fs::write(&script, "/frame --fin maybe x\n").unwrap();
    let out = run(args(&["ws://127.0.0.1:9/", "--script", path])).await;
    assert_eq!(
        out.code, 2,
        "a syntax error is found before dialing: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("crafted.ws:1") && out.stderr.contains("--fin"),
        "{}",
        out.stderr
    );
}
