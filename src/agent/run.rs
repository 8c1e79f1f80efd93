//! `cordon run`: the long-running agent. Sources run on blocking threads and hand chunks of
//! complete lines (or decoded observations) to one pipeline task; the outbox worker and the
//! scheduler are tasks of their own; the API serves answer pages. SIGTERM/SIGINT stop the
//! sources, let the in-flight effect finish, and close the server gracefully.
use super::metrics::Metrics;
use super::outbox::{Executor, Outcome2};
use super::pipeline::{Pipeline, SourceView};
use crate::config::{Config, SourceKind};
use crate::enforce::Enforcer;
use crate::flow::batch::{BatchSink, PacketRecord};
use crate::ingest::file_tail::Tailer;
use crate::notify::{Notifier, Templates};
use crate::parse::{Format, LineParser, ParseContext, parser_for};
use crate::policy::Policy;
use crate::store::{AuditLine, EffectOutcome, IncidentFilter, Offset, SqliteStore, Store};
use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use std::io::BufRead;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Longest the scheduler and outbox sleep, so changes made by `cordon ack` & co. in another
/// process are seen within a second, and deadlines fire within a second.
const POLL: Duration = Duration::from_secs(1);
/// Bytes handed from a source to the pipeline at once.
const CHUNK: usize = 1 << 20;

pub struct Core {
    pub cfg: Config,
    pub policy: Policy,
    pub store: Mutex<SqliteStore>,
    /// Woken when new effects or deadlines may be due.
    pub wake: Notify,
    pub metrics: Metrics,
}

impl Core {
    pub fn lock_store(&self) -> MutexGuard<'_, SqliteStore> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions), so
        // the data behind a poisoned lock is still good.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }
}

enum Msg {
    Chunk {
        source: usize,
        data: Vec<u8>,
        offset: Option<Offset>,
    },
    /// A batch of a capture source's flow-engine observations. The emptied batch goes back
    /// through `back`, so a busy capture refills the same few vectors instead of allocating
    /// one per batch.
    Packets {
        source: usize,
        records: Vec<PacketRecord>,
        back: std::sync::mpsc::Sender<Vec<PacketRecord>>,
    },
    Done(usize),
}

/// Options for `run`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Print a summary to stdout once every finite source is read and the outbox is idle.
    pub summary: bool,
}

pub async fn run(cfg: Config, opts: RunOptions, shutdown: CancellationToken) -> Result<()> {
    let store = SqliteStore::open_dir(&cfg.agent.state_dir)
        .with_context(|| format!("opening the store in {}", cfg.agent.state_dir.display()))?;
    let notifier = Notifier::from_config(&cfg.notify).context("setting up notices")?;
    let templates =
        Templates::load(cfg.notify.templates_dir.as_deref()).context("loading notice templates")?;
    let enforcer = Enforcer::new(&cfg.enforce).context("setting up enforcement hooks")?;
    let metrics = Metrics::default();
    let mut registry = prometheus_client::registry::Registry::default();
    metrics.register(&mut registry);
    let core = Arc::new(Core {
        policy: Policy::from_config(&cfg),
        cfg: cfg.clone(),
        store: Mutex::new(store),
        wake: Notify::new(),
        metrics,
    });
    let exec = Arc::new(Executor {
        cfg: cfg.clone(),
        notifier,
        enforcer,
        templates,
    });

    let tracker = TaskTracker::new();
    // The API first, so a bad listen address fails before anything else happens.
    let listener = tokio::net::TcpListener::bind(cfg.api.listen)
        .await
        .with_context(|| format!("api.listen: cannot listen on {}", cfg.api.listen))?;
    let addr = listener.local_addr()?;
    let answers = Arc::new(super::answers::StoreAnswers(core.clone()));
    let state = crate::api::ApiState::new(
        &cfg,
        answers.clone(),
        answers,
        Arc::new(std::sync::Mutex::new(registry)),
    );
    let router = crate::api::router(state);
    {
        let sd = shutdown.clone();
        tracker.spawn(async move {
            if let Err(e) = crate::api::serve(listener, router, sd).await {
                tracing::error!(error = %e, "api server stopped");
            }
        });
    }
    tracing::info!(%addr, "answer pages and metrics listening");

    // Deadlines that passed while we were down fire at once (DESIGN invariant 3).
    tracker.spawn(super::scheduler::deadlines(core.clone(), shutdown.clone()));
    tracker.spawn(outbox_worker(core.clone(), exec.clone(), shutdown.clone()));

    let (tx, rx) = mpsc::channel::<Msg>(16);
    let mut finite = 0usize;
    for (i, src) in cfg.sources.iter().enumerate() {
        let finite_source = matches!(src.kind, SourceKind::PcapFile)
            || (matches!(src.kind, SourceKind::File) && !src.follow);
        if finite_source {
            finite += 1;
        }
        spawn_source(i, &core, tx.clone(), shutdown.clone())?;
    }
    drop(tx);
    tracker.spawn(pipeline_task(
        core.clone(),
        rx,
        finite,
        opts,
        addr,
        shutdown.clone(),
    ));
    tracker.close();

    shutdown.cancelled().await;
    tracing::info!("shutting down: finishing in-flight effects");
    if tokio::time::timeout(Duration::from_secs(25), tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            "some tasks did not finish within 25 s; pending effects resume at next start"
        );
    }
    Ok(())
}

/// A capture source's batch sink: each batch goes to the pipeline task as one message, and
/// the next is filled from a batch it has sent back (a fresh one while none has come back yet).
/// A new batch is made only when none is waiting, so there are never more than were ever in
/// flight at once (the channel's capacity and two): the return queue stays bounded. `Err`
/// once the pipeline task is gone.
fn packet_sink(tx: mpsc::Sender<Msg>, source: usize) -> impl BatchSink + Send + 'static {
    let (back, spares) = std::sync::mpsc::channel::<Vec<PacketRecord>>();
    move |records| {
        let back = back.clone();
        tx.blocking_send(Msg::Packets {
            source,
            records,
            back,
        })
        .map(|()| spares.try_recv().ok())
        .map_err(|_| ())
    }
}

fn spawn_source(
    idx: usize,
    core: &Arc<Core>,
    tx: mpsc::Sender<Msg>,
    shutdown: CancellationToken,
) -> Result<()> {
    let src = core.cfg.sources[idx].clone();
    match src.kind {
        SourceKind::File => {
            let stored = core.lock_store().offsets(&src.name)?;
            let pattern = src.path.clone().unwrap_or_default();
            let mut tail = Tailer::new(&src.name, &pattern, src.follow, stored)
                .with_context(|| format!("source {:?}: {pattern}", src.name))?;
            let mut counters = core.metrics.tail(&src.name);
            std::thread::spawn(move || {
                while !shutdown.is_cancelled() {
                    let polled = tail.poll(CHUNK);
                    counters.publish(tail.stats());
                    match polled {
                        Ok(Some(c)) => {
                            let msg = Msg::Chunk {
                                source: idx,
                                data: c.data,
                                offset: Some(c.offset),
                            };
                            if tx.blocking_send(msg).is_err() {
                                return;
                            }
                        }
                        Ok(None) if tail.is_done() => break,
                        Ok(None) => std::thread::sleep(Duration::from_millis(100)),
                        Err(e) => {
                            tracing::error!(source = %src.name, error = %e, "source error; retrying");
                            std::thread::sleep(Duration::from_secs(1));
                        }
                    }
                }
                let _ = tx.blocking_send(Msg::Done(idx));
            });
        }
        SourceKind::Stdin => {
            std::thread::spawn(move || {
                let stdin = std::io::stdin();
                let mut lock = stdin.lock();
                // Whatever complete lines are available are sent at once: a pipe with a slow
                // writer gets low latency, a fast one gets large chunks.
                let mut partial: Vec<u8> = Vec::new();
                while !shutdown.is_cancelled() {
                    let avail = match lock.fill_buf() {
                        Ok(b) => b,
                        Err(_) => break,
                    };
                    if avail.is_empty() {
                        break;
                    }
                    let n = avail.len();
                    let mut data = std::mem::take(&mut partial);
                    data.extend_from_slice(avail);
                    lock.consume(n);
                    match memchr::memrchr(b'\n', &data) {
                        Some(i) => {
                            partial = data.split_off(i + 1);
                            if tx
                                .blocking_send(Msg::Chunk {
                                    source: idx,
                                    data,
                                    offset: None,
                                })
                                .is_err()
                            {
                                return;
                            }
                        }
                        None => partial = data,
                    }
                    if partial.len() > CHUNK {
                        tracing::warn!(source = %src.name, "line longer than 1 MiB on stdin: dropped");
                        partial.clear();
                    }
                }
                if !partial.is_empty() {
                    let _ = tx.blocking_send(Msg::Chunk {
                        source: idx,
                        data: partial,
                        offset: None,
                    });
                }
                let _ = tx.blocking_send(Msg::Done(idx));
            });
        }
        SourceKind::PcapFile => {
            let path = src.path.clone().unwrap_or_default();
            let flow = crate::flow::FlowSettings::for_source(&core.cfg, Some(&src));
            let mut counters = core.metrics.capture(&src.name);
            std::thread::spawn(move || {
                let filter = src
                    .bpf
                    .as_deref()
                    .map(crate::ingest::pcap_file::FrameFilter::new);
                let r = crate::ingest::pcap_file::flow_batches(
                    std::path::Path::new(&path),
                    &flow,
                    filter,
                    packet_sink(tx.clone(), idx),
                    // Every 64k frames: a big file shows progress, a frame pays one increment.
                    |stats| counters.publish(stats),
                );
                match r {
                    Ok(c) => counters.bad_time(c.bad_time),
                    Err(e) => {
                        tracing::error!(source = %src.name, error = %e, "cannot read capture")
                    }
                }
                let _ = tx.blocking_send(Msg::Done(idx));
            });
        }
        SourceKind::Pcap => {
            let Some(live) = crate::ingest::pcap_live::LiveSettings::from_source(&src) else {
                bail!("source {:?}: a live capture needs `interface`", src.name);
            };
            let flow = crate::flow::FlowSettings::for_source(&core.cfg, Some(&src));
            let cap =
                crate::ingest::pcap_live::LiveCapture::start(&live, flow, packet_sink(tx, idx))
                    .with_context(|| format!("source {:?}: live capture", src.name))?;
            let mut counters = core.metrics.capture(&src.name);
            let mut drops = core.metrics.interface(&live.interface);
            tokio::spawn(async move {
                // The capture thread reads libpcap's stats once a second (and warns when the
                // drops grow); copy them and the flow counters to metrics as often.
                let shared = cap.shared_counters();
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tick.tick() => {
                            drops.publish(&shared);
                            counters.publish(cap.flow_stats());
                        }
                    }
                }
                // Joining the capture thread blocks, and that thread may itself be waiting to
                // hand its last batch to the pipeline task: never block a runtime worker on it.
                match tokio::task::spawn_blocking(move || cap.stop()).await {
                    Ok(last) => counters.publish(last),
                    Err(e) => tracing::error!(error = %e, "live capture stop did not complete"),
                }
                drops.publish(&shared);
            });
        }
        SourceKind::Syslog => {
            use crate::ingest::syslog;
            let Some(listen) = src.listen else {
                bail!("source {:?}: a syslog source needs `listen`", src.name);
            };
            let transport: syslog::Transport = src
                .transport
                .as_deref()
                .unwrap_or_default()
                .parse()
                .with_context(|| format!("source {:?}", src.name))?;
            // Bound here so a bad or busy address stops the start, like `api.listen`.
            let bound = syslog::bind(listen, transport)
                .with_context(|| format!("source {:?}: cannot listen on {listen}", src.name))?;
            let (btx, mut brx) = mpsc::channel::<Vec<u8>>(16);
            let counters = Arc::new(syslog::Counters::default());
            let mut published = core.metrics.syslog(&src.name, transport.as_str());
            let receiver = counters.clone();
            tokio::spawn(async move {
                if let Err(e) = syslog::serve_bound(bound, btx, shutdown, receiver).await {
                    tracing::error!(source = %src.name, error = %e, "syslog receiver stopped");
                }
            });
            tokio::spawn(async move {
                // Publish with every batch, and once a second for what comes without one
                // (refused connections, framing errors).
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                loop {
                    let data = tokio::select! {
                        d = brx.recv() => d,
                        _ = tick.tick() => {
                            published.publish(counters.snapshot());
                            continue;
                        }
                    };
                    published.publish(counters.snapshot());
                    let Some(data) = data else { return };
                    let msg = Msg::Chunk {
                        source: idx,
                        data,
                        offset: None,
                    };
                    if tx.send(msg).await.is_err() {
                        return;
                    }
                }
            });
        }
    }
    Ok(())
}

async fn pipeline_task(
    core: Arc<Core>,
    mut rx: mpsc::Receiver<Msg>,
    mut finite: usize,
    opts: RunOptions,
    addr: std::net::SocketAddr,
    shutdown: CancellationToken,
) {
    let cfg = &core.cfg;
    let mut pipeline = Pipeline::new(cfg);
    let views: Vec<SourceView> = cfg
        .sources
        .iter()
        .map(|s| SourceView::new(cfg, s))
        .collect();
    let mut parsers: Vec<Option<Box<dyn LineParser>>> = cfg
        .sources
        .iter()
        .map(|s| s.format.parse::<Format>().ok().map(parser_for))
        .collect();
    let tzs: Vec<jiff::tz::TimeZone> = cfg
        .sources
        .iter()
        .map(|s| {
            s.timezone
                .as_ref()
                .map(|t| t.tz.clone())
                .unwrap_or_else(|| cfg.calendar.timezone.tz.clone())
        })
        .collect();
    // Metric handles, resolved once: per line source, per IDS source (at its first stats
    // record), per detector.
    let source_counters: Vec<Option<super::metrics::SourceCounters>> = cfg
        .sources
        .iter()
        .map(|s| {
            let f = s.format.parse::<Format>().ok()?;
            let lines = matches!(
                s.kind,
                SourceKind::File | SourceKind::Stdin | SourceKind::Syslog
            );
            lines.then(|| core.metrics.source(&s.name, f.as_str()))
        })
        .collect();
    let mut sensors: Vec<Option<super::metrics::SensorGauges>> = vec![None; cfg.sources.len()];
    let mut detector_counters = core.metrics.detectors();
    let mut last = pipeline.stats;
    while let Some(msg) = rx.recv().await {
        let now = Timestamp::now();
        let offsets = match msg {
            Msg::Chunk {
                source,
                data,
                offset,
            } => {
                if let Some(p) = parsers[source].as_deref_mut() {
                    let pctx = ParseContext::new(tzs[source].clone(), now);
                    let before = pipeline.stats;
                    pipeline.lines(p, &pctx, &data, &views[source]);
                    if let Some(c) = &source_counters[source] {
                        let after = pipeline.stats;
                        c.add(after.lines - before.lines, after.bad - before.bad);
                    }
                    if let Some(s) = pipeline.take_sensor_stats() {
                        sensors[source]
                            .get_or_insert_with(|| core.metrics.sensor(&cfg.sources[source].name))
                            .update(&s);
                    }
                }
                offset.into_iter().collect()
            }
            Msg::Packets {
                source,
                mut records,
                back,
            } => {
                pipeline.observe_packets(&records, &views[source]);
                records.clear();
                let _ = back.send(records); // the source may have finished: then it is dropped
                Vec::new()
            }
            Msg::Done(source) => {
                tracing::info!(source = %cfg.sources[source].name, "source finished");
                let s = &cfg.sources[source];
                if matches!(s.kind, SourceKind::PcapFile)
                    || (matches!(s.kind, SourceKind::File) && !s.follow)
                {
                    finite = finite.saturating_sub(1);
                    if finite == 0 && opts.summary {
                        tokio::spawn(print_summary(core.clone(), addr, shutdown.clone()));
                    }
                }
                continue;
            }
        };
        let findings = pipeline.take_findings();
        let st = pipeline.stats;
        let m = &core.metrics;
        m.lines.inc_by(st.lines - last.lines);
        m.lines_bad.inc_by(st.bad - last.bad);
        m.observations.inc_by(st.observations - last.observations);
        m.evidence.inc_by(st.evidence - last.evidence);
        let detect = pipeline.detect_stats();
        m.detector_evictions.set(detect.total_evictions() as i64);
        detector_counters.publish(&detect);
        last = st;
        if findings.is_empty() && offsets.is_empty() {
            continue;
        }
        let res = {
            let mut store = core.lock_store();
            super::apply_findings(&mut *store, &core.policy, &findings, offsets, now)
        };
        match res {
            Ok(applied) => {
                for a in applied.iter().filter(|a| a.opened) {
                    m.incidents_opened.inc();
                    let i = &a.step.incident;
                    tracing::info!(incident = %i.id, subject = %i.subject, category = %i.category, severity = %i.severity, "incident opened");
                }
                core.wake.notify_one();
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot record findings; the lines will be read again after a restart")
            }
        }
    }
}

async fn outbox_worker(core: Arc<Core>, exec: Arc<Executor>, shutdown: CancellationToken) {
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        let now = Timestamp::now();
        let items = match core.lock_store().due_effects(now, 32) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the outbox");
                Vec::new()
            }
        };
        // An outcome the store could not record leaves its effect due at once: wait a poll
        // interval before trying it again, instead of calling the hook in a tight loop.
        let mut unrecorded = false;
        for item in items {
            let loaded = {
                let store = core.lock_store();
                store
                    .incident(&item.incident)
                    .and_then(|i| Ok((i, store.evidence(&item.incident)?)))
            };
            let (Some(incident), evidence) = (match loaded {
                Ok((i, e)) => (i, e),
                Err(e) => {
                    tracing::error!(error = %e, "cannot load incident for effect");
                    continue;
                }
            }) else {
                continue;
            };
            // An effect in flight is finished even when shutdown was asked for meanwhile.
            let out = exec
                .execute(&item, &incident, &evidence, Timestamp::now())
                .await;
            let now = Timestamp::now();
            let mut store = core.lock_store();
            let res = match out {
                Outcome2::Finished { ok, result, event } => {
                    let is_hook = matches!(item.effect.kind, crate::model::EffectKind::Hook { .. });
                    let m = &core.metrics;
                    match (is_hook, ok) {
                        (true, true) => m.hook_calls_done.inc(),
                        (true, false) => m.hook_calls_failed.inc(),
                        (false, true) => m.notices_delivered.inc(),
                        (false, false) => m.notices_failed.inc(),
                    };
                    tracing::info!(incident = %item.incident, key = %item.key, ok, result = %result, "effect finished");
                    super::record_outcome(
                        &mut *store,
                        &core.policy,
                        &item.incident,
                        EffectOutcome::Finished {
                            key: &item.key,
                            ok,
                            result: &result,
                        },
                        AuditLine::new(
                            if ok { "effect_done" } else { "effect_failed" },
                            format!("{}: {result}", item.key),
                        ),
                        event.as_ref(),
                        now,
                    )
                }
                Outcome2::Retry {
                    error,
                    after,
                    event,
                } => {
                    core.metrics.effect_retries.inc();
                    let at = now
                        .checked_add(jiff::SignedDuration::try_from(after).unwrap_or_default())
                        .unwrap_or(now);
                    tracing::warn!(incident = %item.incident, key = %item.key, error = %error, retry_at = %at, "effect failed; will retry");
                    super::record_outcome(
                        &mut *store,
                        &core.policy,
                        &item.incident,
                        EffectOutcome::Retry {
                            key: &item.key,
                            error: &error,
                            next_attempt_at: at,
                        },
                        AuditLine::new(
                            "effect_retry",
                            format!(
                                "{}: attempt {} failed: {error}; next try {at}",
                                item.key,
                                item.attempts.saturating_add(1)
                            ),
                        ),
                        event.as_ref(),
                        now,
                    )
                }
            };
            if let Err(e) = res {
                tracing::error!(error = %e, key = %item.key, "cannot record effect result");
                unrecorded = true;
            }
        }
        let next = core.lock_store().next_effect_at().ok().flatten();
        let sleep = match next {
            _ if unrecorded => POLL,
            Some(t) => {
                let d = t.duration_since(Timestamp::now());
                Duration::try_from(d).unwrap_or(Duration::ZERO).min(POLL)
            }
            None => POLL,
        };
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            _ = core.wake.notified() => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

async fn print_summary(core: Arc<Core>, addr: std::net::SocketAddr, shutdown: CancellationToken) {
    // Let the outbox carry out what the input caused.
    for _ in 0..50 {
        let idle = core
            .lock_store()
            .due_effects(Timestamp::now(), 1)
            .map(|v| v.is_empty())
            .unwrap_or(true);
        if idle || shutdown.is_cancelled() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let incidents = core
        .lock_store()
        .incidents(&IncidentFilter {
            include_closed: true,
            limit: None,
        })
        .unwrap_or_default();
    let cfg = &core.cfg;
    println!(
        "\ncordon: read every finite source; {} incident(s):",
        incidents.len()
    );
    for i in &incidents {
        let next = i
            .next_deadline()
            .map(|t| core.policy.calendar.show(t))
            .unwrap_or_else(|| "-".into());
        println!(
            "  {}  {:<28} cat {}  {:<6}  {:<18} next deadline {}",
            i.id,
            i.subject.to_string(),
            i.category,
            i.severity.as_str(),
            i.phase.name(),
            next
        );
    }
    println!("\nWhere to look:");
    println!(
        "  database        {}/cordon.db  (cordon incidents list -c CONFIG)",
        cfg.agent.state_dir.display()
    );
    if let Some(f) = &cfg.notify.file {
        println!(
            "  notices         {}/  (one file per message)",
            f.dir.display()
        );
    }
    println!("  answer pages    http://{addr}/a/<token>  (links are in the notices)");
    println!("  metrics         http://{addr}/metrics");
    if cfg.enforce.dry_run {
        println!("  hooks           dry run: nothing was executed; see `cordon incidents show ID`");
    }
    println!("Deadlines keep running while the agent runs. Ctrl-C to stop.\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ObsKind, Observation};

    fn record() -> PacketRecord {
        let mut o = Observation::new(Timestamp::UNIX_EPOCH, ObsKind::ConnAttempt, "");
        o.from_packets = true;
        PacketRecord::new(&o)
    }

    /// A capture's batches come back emptied and are filled again: a busy capture does not
    /// allocate a batch per send.
    #[test]
    fn a_capture_refills_the_batches_the_pipeline_sends_back() {
        let (tx, mut rx) = mpsc::channel(4);
        let mut sink = packet_sink(tx, 3);
        let first = Vec::from([record(), record()]);
        let ptr = first.as_ptr();
        assert_eq!(sink(first), Ok(None), "nothing has come back yet");
        let Some(Msg::Packets {
            source,
            mut records,
            back,
        }) = rx.blocking_recv()
        else {
            panic!("expected a batch of packets");
        };
        assert_eq!((source, records.len()), (3, 2));
        records.clear();
        back.send(records).unwrap();
        let spare = sink(vec![record()]).unwrap().expect("the batch sent back");
        assert!(spare.is_empty());
        assert_eq!(spare.as_ptr(), ptr, "the same allocation");
        drop(rx);
        assert_eq!(sink(vec![record()]), Err(()), "pipeline gone");
    }
}
