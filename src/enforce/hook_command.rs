//! Command hooks: run a program with an argv array — never a shell — with a cleared
//! environment, no stdin, captured (truncated) output and a timeout that kills the whole process
//! group.
//!
//! Exit status mapping (documented for operators in the example config):
//! - `0` → done;
//! - `75` (`EX_TEMPFAIL`), killed by a signal, or killed by our timeout → transient (retried);
//! - `64..=78` other than 75 (the sysexits codes: usage, data, no user, config …) → permanent:
//!   the hook itself says retrying will not help;
//! - any other non-zero → transient (a generic failure may be a flaky network device);
//! - the program cannot be started (missing, not executable) → permanent.
//!
//! Output is kept only up to 4 KiB per stream; output still held open by something the hook
//! left running in the background is waited for only briefly after the hook exits.
use super::Outcome;
use super::template::{self, RenderError};
use super::values::HookValues;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The only `PATH` a hook sees.
pub const SAFE_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";
/// Bytes of stdout and of stderr kept for the record.
const KEEP_OUTPUT: usize = 4096;

/// A configured command hook, checked once at start-up.
#[derive(Debug, Clone)]
pub struct CommandHook {
    argv: Vec<String>,
}

impl CommandHook {
    /// `argv[0]` must be present, non-empty and free of placeholders (the program is fixed by
    /// the config, never chosen by data); every element must be a valid template.
    pub fn new(argv: &[String]) -> Result<Self, String> {
        let Some(program) = argv.first() else {
            return Err("argv: must name a program".into());
        };
        if program.is_empty() {
            return Err("argv[0]: empty program".into());
        }
        if !template::placeholders(program)
            .map_err(|e| format!("argv[0]: {e}"))?
            .is_empty()
        {
            return Err("argv[0]: the program may not contain placeholders".into());
        }
        for (i, a) in argv.iter().enumerate() {
            template::check(a).map_err(|e| format!("argv[{i}]: {e}"))?;
        }
        Ok(CommandHook {
            argv: argv.to_vec(),
        })
    }

    pub fn templates(&self) -> &[String] {
        &self.argv
    }

    /// One rendered string per argv element: an element never splits or merges.
    pub fn render(&self, values: &HookValues) -> Result<Vec<String>, RenderError> {
        self.argv
            .iter()
            .map(|a| template::render_arg(a, values))
            .collect()
    }

    /// Run the rendered argv and classify the result.
    pub async fn run(&self, argv: &[String], values: &HookValues, timeout: Duration) -> Outcome {
        let Some((program, args)) = argv.split_first() else {
            return Outcome::Permanent {
                error: "empty argv".into(),
            };
        };
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .env_clear()
            .env("PATH", SAFE_PATH)
            .env("CORDON_IDEMPOTENCY_KEY", values.key.as_str())
            .env("CORDON_ACTION", values.action.as_str())
            .env("CORDON_INCIDENT", values.incident.as_str())
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                return Outcome::Permanent {
                    error: format!("cannot start {program:?}: {e}"),
                };
            }
        };
        let pid = child.id();
        let mut out_task = tokio::spawn(read_capped(child.stdout.take()));
        let mut err_task = tokio::spawn(read_capped(child.stderr.take()));
        let status = match tokio::time::timeout(timeout, child.wait()).await {
            Ok(Ok(status)) => status,
            Ok(Err(e)) => {
                out_task.abort();
                err_task.abort();
                return Outcome::Transient {
                    error: format!("waiting for {program:?} failed: {e}"),
                };
            }
            Err(_) => {
                if let Some(pid) = pid {
                    kill_group(pid);
                }
                let _ = child.start_kill();
                let _ = child.wait().await;
                out_task.abort();
                err_task.abort();
                tracing::warn!(%program, ?timeout, "command hook timed out; killed");
                return Outcome::Transient {
                    error: format!("{program} timed out after {timeout:?} and was killed"),
                };
            }
        };
        // The program has exited. Its output is complete unless something it left running in
        // the background still holds the pipes: wait only briefly for that, so the exit
        // status decides the outcome.
        let grace = OUTPUT_GRACE.min(timeout);
        let out = collect(&mut out_task, grace).await;
        let err = collect(&mut err_task, grace).await;
        let detail = format!("{program} exited with {status}; stdout: {out:?}; stderr: {err:?}");
        match classify_exit(status.code()) {
            ExitClass::Done => Outcome::Done { detail },
            ExitClass::Transient => Outcome::Transient { error: detail },
            ExitClass::Permanent => Outcome::Permanent { error: detail },
        }
    }
}

/// How long output is still read after the program exited.
const OUTPUT_GRACE: Duration = Duration::from_millis(500);

async fn collect(task: &mut tokio::task::JoinHandle<String>, grace: Duration) -> String {
    match tokio::time::timeout(grace, &mut *task).await {
        Ok(Ok(s)) => s,
        Ok(Err(_)) => String::from("(output lost)"),
        Err(_) => {
            task.abort();
            String::from("(output still held open by a background process)")
        }
    }
}

/// How an exit status is treated (`None`: killed by a signal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitClass {
    Done,
    Transient,
    Permanent,
}

pub fn classify_exit(code: Option<i32>) -> ExitClass {
    match code {
        Some(0) => ExitClass::Done,
        Some(75) | None => ExitClass::Transient,
        Some(64..=78) => ExitClass::Permanent,
        Some(_) => ExitClass::Transient,
    }
}

/// Kill the hook's whole process group (it was started as the leader of a new group), so a
/// script's children do not outlive the timeout.
fn kill_group(pid: u32) {
    let Ok(pgid) = i32::try_from(pid) else { return };
    if pgid <= 1 {
        return;
    }
    // SAFETY: kill(2) with a negative pid signals the process group we created for this child;
    // it takes no pointers and cannot violate memory safety.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Read a stream to its end, keeping the first `KEEP_OUTPUT` bytes (the rest is drained so the
/// child never blocks on a full pipe).
async fn read_capped<R: AsyncRead + Unpin>(r: Option<R>) -> String {
    let Some(mut r) = r else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    let mut dropped = false;
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = KEEP_OUTPUT.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                dropped |= n > room;
            }
        }
    }
    let mut s = String::from_utf8_lossy(&kept).into_owned();
    if dropped {
        s.push_str("…(truncated)");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_classes() {
        assert_eq!(classify_exit(Some(0)), ExitClass::Done);
        assert_eq!(classify_exit(Some(75)), ExitClass::Transient);
        assert_eq!(classify_exit(None), ExitClass::Transient);
        assert_eq!(classify_exit(Some(1)), ExitClass::Transient);
        assert_eq!(classify_exit(Some(64)), ExitClass::Permanent);
        assert_eq!(classify_exit(Some(78)), ExitClass::Permanent);
        assert_eq!(classify_exit(Some(79)), ExitClass::Transient);
    }

    #[test]
    fn argv_checks() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(CommandHook::new(&s(&["/usr/local/bin/q", "{ip}", "--mac={mac}"])).is_ok());
        assert!(CommandHook::new(&[]).is_err());
        assert!(CommandHook::new(&s(&[""])).is_err());
        assert!(CommandHook::new(&s(&["/bin/{action}"])).is_err());
        assert!(CommandHook::new(&s(&["/bin/q", "{hostname}"])).is_err());
    }
}
