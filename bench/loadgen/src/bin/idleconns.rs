//! Many idle connections (issue 24 item 5): opens `--conns` WebSocket
//! connections to an echo server (handshake done, then silence) from
//! several worker processes, each bound to its own source address, and
//! reports the server's resident set size per connection and the accept
//! rate (connections whose handshake completed, per second, from the first
//! connect to the last `101`).
//!
//! ```text
//! idleconns --addr 127.0.0.1:PORT --server-pid PID --conns 100000
//!     --sources 127.0.1.2,127.0.1.3,... [--per-proc 10000] [--inflight 64]
//!     [--timeout 30] [--settle 1] [--mem-floor-mib 2048] [--beyond 0]
//! ```
//!
//! One source address has ~28,000 ephemeral ports and one process as
//! many descriptors as its `RLIMIT_NOFILE`, so the connections are split
//! over `ceil(conns / per-proc)` workers (this program again, `--worker`),
//! worker `i` binding `--sources[i]` before it connects. Each keeps
//! `--inflight` handshakes under way. The probe stops opening (and says
//! so) when `MemAvailable` falls below `--mem-floor-mib` or the server
//! exits.
//!
//! Prints `RESULT conns=… requested=… failed=… workers=… rss_before_kib=…
//! rss_after_kib=… bytes_per_conn=… accepts_per_s=… open_s=…
//! server_us_per_conn=… gen_cpu_s=… p50_ms=… p99_ms=… max_ms=… slow_1s=…
//! listen_overflows=… listen_drops=… server_fds=… alive=… stopped=…
//! error=…` (`p99_ms`: the worst worker's; `slow_1s`: handshakes that took
//! a second or more, the mark of a dropped SYN; the listen counters are the
//! network namespace's `TcpExt` deltas).
//!
//! `--beyond M` then checks the server at its descriptor limit: a further
//! worker opens as many connections as the server has descriptors left
//! plus M; after 2 s the probe reads how many completed and the server's
//! CPU meanwhile (an accept loop that spins on `EMFILE` burns a core), then
//! closes 2·M of the idle connections and times how long the stalled
//! handshakes take to complete. Prints `EXHAUST …`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs as _};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::net::TcpStream;
use wsbench::{arg, connect_from, flag, num_arg, own_cpu, process_cpu, rss_kib, warm_up};

fn main() {
    if flag("worker") {
        worker();
    } else {
        coordinator();
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1)
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

// ---------------------------------------------------------------- worker

/// What a worker's opening tasks share.
#[derive(Default)]
struct Opened {
    streams: Vec<TcpStream>,
    /// Handshake times (connect to `101`), microseconds.
    micros: Vec<u64>,
    failed: usize,
    first_error: Option<String>,
}

/// A worker: opens `--conns` connections from `--source`, prints `OPENED
/// …`, then holds them and obeys its standard input (`status`, `stop`,
/// `close K`) until it ends.
fn worker() {
    let addr: SocketAddr = arg("addr")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| fail("--addr IP:PORT"));
    let source: IpAddr = arg("source")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| fail("--source IP"));
    let conns: usize = num_arg("conns", 1000);
    let inflight: usize = num_arg("inflight", 64);
    let timeout = Duration::from_secs_f64(num_arg("timeout", 30.0));

    let (tx, mut commands) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&e.to_string()));
    runtime.block_on(async move {
        let state = Arc::new(Mutex::new(Opened::default()));
        let next = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (start_ns, cpu0) = (now_ns(), own_cpu());
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..inflight.clamp(1, conns.max(1)) {
            let (state, next, stop) = (state.clone(), next.clone(), stop.clone());
            tasks.spawn(async move {
                while !stop.load(Ordering::Relaxed) && next.fetch_add(1, Ordering::Relaxed) < conns
                {
                    let began = Instant::now();
                    let outcome = tokio::time::timeout(timeout, connect_from(addr, source)).await;
                    let mut state = state.lock().expect("not poisoned");
                    match outcome {
                        Ok(Ok((stream, _))) => {
                            // Closed with a reset, not into TIME_WAIT: tens
                            // of thousands of those on a source address make
                            // the next run's bind() crawl through them.
                            if let Err(e) = stream.set_zero_linger() {
                                state.first_error.get_or_insert(e.to_string());
                            }
                            state.streams.push(stream);
                            state.micros.push(began.elapsed().as_micros() as u64);
                        }
                        Ok(Err(e)) => {
                            state.failed += 1;
                            state.first_error.get_or_insert(e);
                        }
                        Err(_) => {
                            state.failed += 1;
                            state
                                .first_error
                                .get_or_insert(format!("handshake not done in {timeout:?}"));
                        }
                    }
                }
            });
        }
        let mut reported = false;
        loop {
            tokio::select! {
                _ = tasks.join_next(), if !tasks.is_empty() => {
                    if tasks.is_empty() && !reported {
                        reported = true;
                        let state = state.lock().expect("not poisoned");
                        report_opened(&state, start_ns, own_cpu() - cpu0);
                    }
                }
                command = commands.recv() => {
                    let Some(command) = command else { return };
                    let mut state = state.lock().expect("not poisoned");
                    let reply = match command.split_whitespace().collect::<Vec<_>>()[..] {
                        ["status"] => format!("STATUS ok={} failed={}", state.streams.len(), state.failed),
                        ["stop"] => {
                            stop.store(true, Ordering::Relaxed);
                            "STOPPING".to_owned()
                        }
                        ["close", k] => {
                            let k = k.parse::<usize>().unwrap_or(0).min(state.streams.len());
                            let keep = state.streams.len() - k;
                            state.streams.truncate(keep);
                            format!("CLOSED {k}")
                        }
                        _ => format!("UNKNOWN {command}"),
                    };
                    say(&reply);
                }
            }
        }
    });
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // The coordinator reads every line; if it is gone, so is the point.
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
}

fn report_opened(state: &Opened, start_ns: u128, cpu: f64) {
    let mut micros = state.micros.clone();
    micros.sort_unstable();
    let pick = |q: f64| {
        micros
            .get(((micros.len() as f64 * q) as usize).min(micros.len().saturating_sub(1)))
            .map_or(0.0, |&us| us as f64 / 1000.0)
    };
    let slow = micros.iter().filter(|&&us| us >= 1_000_000).count();
    say(&format!(
        "OPENED ok={} failed={} start_ns={start_ns} end_ns={} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} slow_1s={slow} cpu_s={cpu:.3} error={}",
        state.streams.len(),
        state.failed,
        now_ns(),
        pick(0.5),
        pick(0.99),
        micros.last().map_or(0.0, |&us| us as f64 / 1000.0),
        state.first_error.as_deref().unwrap_or("-"),
    ));
}

// ----------------------------------------------------------- coordinator

/// A worker process and its lines.
struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Worker {
    fn spawn(
        index: usize,
        addr: SocketAddr,
        source: &str,
        conns: usize,
        inflight: usize,
        timeout: f64,
        lines: &mpsc::Sender<(usize, String)>,
    ) -> Worker {
        let exe = std::env::current_exe().unwrap_or_else(|e| fail(&e.to_string()));
        let mut child = Command::new(exe)
            .args(["--worker", "--addr", &addr.to_string(), "--source", source])
            .args([
                "--conns",
                &conns.to_string(),
                "--inflight",
                &inflight.to_string(),
            ])
            .args(["--timeout", &timeout.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| fail(&format!("cannot start a worker: {e}")));
        let stdout = child.stdout.take().expect("piped");
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines.send((index, line)).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Worker { child, stdin }
    }

    fn tell(&mut self, command: &str) {
        if let Some(stdin) = self.stdin.as_mut() {
            // A worker that has exited reads nothing; its lines say why.
            let _ = writeln!(stdin, "{command}").and_then(|()| stdin.flush());
        }
    }

    fn end(mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// `key=value` from a worker's line (`error=` is the rest of the line).
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(&format!(" {key}="))? + key.len() + 2;
    let rest = &line[start..];
    if key == "error" {
        Some(rest)
    } else {
        rest.split_whitespace().next()
    }
}

fn num<T: std::str::FromStr + Default>(line: &str, key: &str) -> T {
    field(line, key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_default()
}

/// The server is running (not gone, not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
        })
        .unwrap_or(false)
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// The soft `RLIMIT_NOFILE` of `pid` (from `/proc/PID/limits`).
fn fd_limit(pid: &str) -> Option<usize> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn mem_available_mib() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? / 1024)
}

/// `TcpExt` counters of this network namespace: (`ListenOverflows`,
/// `ListenDrops`).
fn listen_counters() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/net/netstat").unwrap_or_default();
    let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let (Some(names), Some(values)) = (lines.next(), lines.next()) else {
        return (0, 0);
    };
    let pairs: Vec<(&str, u64)> = names
        .split_whitespace()
        .zip(values.split_whitespace())
        .map(|(n, v)| (n, v.parse().unwrap_or(0)))
        .collect();
    let get = |name: &str| pairs.iter().find(|(n, _)| *n == name).map_or(0, |p| p.1);
    (get("ListenOverflows"), get("ListenDrops"))
}

struct Settings {
    addr: SocketAddr,
    pid: u32,
    conns: usize,
    per_proc: usize,
    sources: Vec<String>,
    inflight: usize,
    timeout: f64,
    settle: Duration,
    mem_floor_mib: u64,
    beyond: usize,
}

fn settings() -> Settings {
    let (Some(addr), Some(pid), Some(sources)) = (
        arg("addr"),
        arg("server-pid").and_then(|p| p.parse::<u32>().ok()),
        arg("sources"),
    ) else {
        eprintln!(
            "usage: idleconns --addr HOST:PORT --server-pid PID --sources IP,IP,... [--conns N] \
             [--per-proc N] [--inflight K] [--timeout S] [--settle S] [--mem-floor-mib M] [--beyond M]"
        );
        std::process::exit(2)
    };
    let addr = addr
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| fail(&format!("cannot resolve {addr}")));
    Settings {
        addr,
        pid,
        conns: num_arg("conns", 100_000),
        per_proc: num_arg("per-proc", 10_000),
        sources: sources.split(',').map(str::to_owned).collect(),
        inflight: num_arg("inflight", 64),
        timeout: num_arg("timeout", 30.0),
        settle: Duration::from_secs_f64(num_arg("settle", 1.0)),
        mem_floor_mib: num_arg("mem-floor-mib", 2048),
        beyond: num_arg("beyond", 0),
    }
}

/// The sum of the workers' `OPENED` lines.
#[derive(Default)]
struct Totals {
    ok: usize,
    failed: usize,
    start_ns: u128,
    end_ns: u128,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    slow: usize,
    cpu_s: f64,
    error: Option<String>,
}

impl Totals {
    fn add(&mut self, line: &str) {
        let start: u128 = num(line, "start_ns");
        self.start_ns = if self.start_ns == 0 {
            start
        } else {
            self.start_ns.min(start)
        };
        self.end_ns = self.end_ns.max(num(line, "end_ns"));
        self.ok += num::<usize>(line, "ok");
        self.failed += num::<usize>(line, "failed");
        // Percentiles do not add up: the worst worker's p50, p99 and
        // maximum.
        self.p50_ms = self.p50_ms.max(num(line, "p50_ms"));
        self.p99_ms = self.p99_ms.max(num(line, "p99_ms"));
        self.max_ms = self.max_ms.max(num(line, "max_ms"));
        self.slow += num::<usize>(line, "slow_1s");
        self.cpu_s += num::<f64>(line, "cpu_s");
        if let Some(e) = field(line, "error").filter(|e| *e != "-") {
            self.error.get_or_insert_with(|| e.to_owned());
        }
    }
}

/// Waits for every worker's `OPENED` line; tells them to stop when memory
/// runs low or the server exits (the second value says which, or `no`).
fn collect_opened(
    s: &Settings,
    pool: &mut [Worker],
    lines: &mpsc::Receiver<(usize, String)>,
) -> (Totals, String) {
    let mut totals = Totals::default();
    let mut stopped = "no".to_owned();
    let mut done = 0;
    while done < pool.len() {
        match lines.recv_timeout(Duration::from_millis(100)) {
            Ok((_, line)) if line.starts_with("OPENED") => {
                totals.add(&line);
                done += 1;
            }
            Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => fail("the workers are gone"),
        }
        if stopped == "no" {
            let low = mem_available_mib().is_some_and(|m| m < s.mem_floor_mib);
            if low || !alive(s.pid) {
                stopped = if low {
                    format!("MemAvailable<{}MiB", s.mem_floor_mib)
                } else {
                    "server-exited".to_owned()
                };
                for worker in pool.iter_mut() {
                    worker.tell("stop");
                }
            }
        }
    }
    (totals, stopped)
}

fn coordinator() {
    let s = settings();
    let workers = s.conns.div_ceil(s.per_proc.max(1));
    if s.sources.len() < workers + usize::from(s.beyond > 0) {
        fail(&format!(
            "{} connections at {} per worker need {} source addresses (one more for --beyond); --sources has {}",
            s.conns,
            s.per_proc,
            workers + usize::from(s.beyond > 0),
            s.sources.len()
        ));
    }
    if let Some(limit) = fd_limit("self")
        && s.per_proc + 32 > limit
    {
        fail(&format!(
            "--per-proc {} needs a descriptor limit above {} (ulimit -n is {limit})",
            s.per_proc,
            s.per_proc + 32
        ));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&e.to_string()));
    let warm = runtime
        .block_on(warm_up(&s.addr.to_string()))
        .unwrap_or_else(|e| fail(&e));
    std::thread::sleep(s.settle);
    let pid = s.pid;
    let read_rss = || rss_kib(pid).unwrap_or_else(|| fail(&format!("no /proc/{pid}/status")));
    let before = read_rss();
    let listen0 = listen_counters();
    let cpu0 = process_cpu(pid).unwrap_or_default();

    let (lines_tx, lines) = mpsc::channel();
    let mut pool: Vec<Worker> = (0..workers)
        .map(|i| {
            let share = s.conns / workers + usize::from(i < s.conns % workers);
            Worker::spawn(
                i,
                s.addr,
                &s.sources[i],
                share,
                s.inflight,
                s.timeout,
                &lines_tx,
            )
        })
        .collect();
    let (totals, stopped) = collect_opened(&s, &mut pool, &lines);
    let server_cpu = process_cpu(pid).unwrap_or_default().saturating_sub(cpu0);
    std::thread::sleep(s.settle);
    let is_alive = alive(pid);
    let after = if is_alive { read_rss() } else { 0 };
    let listen1 = listen_counters();
    let server_fds = open_fds(pid);
    let open_s = totals.end_ns.saturating_sub(totals.start_ns) as f64 / 1e9;
    let ok = totals.ok.max(1) as f64;
    println!(
        "RESULT conns={} requested={} failed={} workers={workers} rss_before_kib={before} rss_after_kib={after} \
         bytes_per_conn={:.0} accepts_per_s={:.0} open_s={open_s:.2} server_us_per_conn={:.1} gen_cpu_s={:.2} \
         p50_ms={:.2} p99_ms={:.2} max_ms={:.1} slow_1s={} listen_overflows={} listen_drops={} server_fds={server_fds} \
         alive={} stopped={stopped} error={}",
        totals.ok,
        s.conns,
        totals.failed,
        after.saturating_sub(before) as f64 * 1024.0 / ok,
        totals.ok as f64 / open_s.max(1e-9),
        server_cpu.as_secs_f64() * 1e6 / ok,
        totals.cpu_s,
        totals.p50_ms,
        totals.p99_ms,
        totals.max_ms,
        totals.slow,
        listen1.0 - listen0.0,
        listen1.1 - listen0.1,
        if is_alive { "yes" } else { "no" },
        totals.error.as_deref().unwrap_or("-"),
    );
    if s.beyond > 0 && is_alive {
        exhaust(&s, &mut pool, &lines, &lines_tx, workers);
    }
    for worker in pool {
        worker.end();
    }
    drop(warm);
}

/// The `--beyond` check: the server at its descriptor limit (see the
/// module docs).
fn exhaust(
    s: &Settings,
    pool: &mut [Worker],
    lines: &mpsc::Receiver<(usize, String)>,
    lines_tx: &mpsc::Sender<(usize, String)>,
    workers: usize,
) {
    let pid = s.pid;
    let limit = fd_limit(&pid.to_string()).unwrap_or_else(|| fail("no server fd limit"));
    let left = limit.saturating_sub(open_fds(pid));
    if left > 1000 {
        println!(
            "EXHAUST skipped: the server has {left} of {limit} descriptors free (not filled to its limit)"
        );
        return;
    }
    let extra = left + s.beyond;
    let release = (2 * s.beyond).min(s.conns / workers);
    let wait = |want: &str, index: usize, within: Duration| -> Option<String> {
        let deadline = Instant::now() + within;
        while let Some(rest) = deadline.checked_duration_since(Instant::now()) {
            match lines.recv_timeout(rest) {
                Ok((i, line)) if i == index && line.starts_with(want) => return Some(line),
                Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return None,
            }
        }
        None
    };
    let timeout = s.timeout.max(10.0);
    // At most 100 handshakes under way: fewer than the listen backlog, so
    // the stalled ones wait in the accept queue, not in SYN retries.
    let mut over = Worker::spawn(
        workers,
        s.addr,
        &s.sources[workers],
        extra,
        extra.min(100),
        timeout,
        lines_tx,
    );
    let cpu0 = process_cpu(pid).unwrap_or_default();
    let window = Duration::from_secs(2);
    std::thread::sleep(window);
    let spent = process_cpu(pid).unwrap_or_default().saturating_sub(cpu0);
    over.tell("status");
    let status = wait("STATUS", workers, Duration::from_secs(5)).unwrap_or_default();
    let at_limit: usize = num(&status, "ok");
    let still_alive = alive(pid);
    pool[0].tell(&format!("close {release}"));
    let closed = wait("CLOSED", 0, Duration::from_secs(5));
    let released_ns = now_ns();
    let opened =
        wait("OPENED", workers, Duration::from_secs_f64(timeout + 5.0)).unwrap_or_default();
    let ok: usize = num(&opened, "ok");
    let end: u128 = num(&opened, "end_ns");
    println!(
        "EXHAUST server_fd_limit={limit} free_fds={left} extra={extra} done_at_limit={at_limit} \
         stalled={} server_cpu_ms_per_s={:.1} alive_at_limit={} released={} done_after={ok} failed={} \
         resume_s={:.2} alive={} error={}",
        extra.saturating_sub(at_limit),
        spent.as_secs_f64() * 1e3 / window.as_secs_f64(),
        if still_alive { "yes" } else { "no" },
        closed.map_or(0, |c| c
            .trim_start_matches("CLOSED ")
            .parse::<usize>()
            .unwrap_or(0)),
        num::<usize>(&opened, "failed"),
        end.saturating_sub(released_ns) as f64 / 1e9,
        if alive(pid) { "yes" } else { "no" },
        field(&opened, "error").unwrap_or("no report from the worker"),
    );
    over.end();
}
