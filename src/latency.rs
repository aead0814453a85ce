//! The latency monitor: for each event ringkv times, the worst latency of each second in
//! which the event took at least `latency-monitor-threshold` ms, as Redis 7.0 keeps it
//! (`cmd::latency` has the LATENCY command). The events are the ones ringkv really measures:
//! `command` and `fast-command` (a command's run, from `cmd::call`, split by the table's
//! FAST flag), `expire-cycle` (one active-expiry pass over every database, in
//! `Server::housekeeping`), `eviction-cycle` (one eviction pass while over `maxmemory`,
//! in `evict::perform`) and `aof-write` (the pwrite of a loop turn's AOF bytes, in
//! `persist::aof`).
//!
//! It also holds `Histogram`, the per-command latency histogram of `latency-tracking`
//! (LATENCY HISTOGRAM and INFO `latencystats`), which `cmd::call` feeds with every call's
//! time.
//!
//! Invariants: a series holds at most `HISTORY_LEN` samples, oldest first, with strictly
//! increasing times (a second has one sample, the worst of that second); its all-time
//! maximum is at least every sample it holds. Events appear in the order they were first
//! seen and disappear only on LATENCY RESET.

use std::collections::VecDeque;

/// Samples kept per event (Redis's LATENCY_TS_LEN): with one sample a second at most, the
/// newest 160 seconds that had a spike.
pub const HISTORY_LEN: usize = 160;

/// The events ringkv times.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Event {
    Command,
    FastCommand,
    ExpireCycle,
    EvictionCycle,
    AofWrite,
}

impl Event {
    pub fn name(self) -> &'static str {
        match self {
            Event::Command => "command",
            Event::FastCommand => "fast-command",
            Event::ExpireCycle => "expire-cycle",
            Event::EvictionCycle => "eviction-cycle",
            Event::AofWrite => "aof-write",
        }
    }
}

/// One sample: the worst latency seen in the second `time_s` (unix seconds).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Sample {
    pub time_s: u64,
    pub latency_ms: u64,
}

/// The history of one event.
#[derive(Default)]
pub struct Series {
    /// Oldest first.
    samples: VecDeque<Sample>,
    /// The worst latency since the event was first seen (or last reset).
    pub max_ms: u64,
}

impl Series {
    pub fn samples(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter()
    }

    pub fn latest(&self) -> Option<Sample> {
        self.samples.back().copied()
    }

    fn add(&mut self, time_s: u64, latency_ms: u64) {
        self.max_ms = self.max_ms.max(latency_ms);
        match self.samples.back_mut() {
            Some(last) if last.time_s == time_s => {
                last.latency_ms = last.latency_ms.max(latency_ms);
            }
            // A clock stepped back: the sample still counts, in the newest slot, so times
            // keep increasing.
            Some(last) if last.time_s > time_s => {
                last.latency_ms = last.latency_ms.max(latency_ms);
            }
            _ => {
                if self.samples.len() == HISTORY_LEN {
                    self.samples.pop_front();
                }
                self.samples.push_back(Sample { time_s, latency_ms });
            }
        }
    }

    /// Figures DOCTOR reports: (samples, average, mean absolute deviation, min, max).
    pub fn stats(&self) -> (u64, u64, u64, u64, u64) {
        let n = self.samples.len() as u64;
        if n == 0 {
            return (0, 0, 0, 0, 0);
        }
        let sum: u64 = self.samples.iter().map(|s| s.latency_ms).sum();
        let avg = sum / n;
        let dev: u64 = self
            .samples
            .iter()
            .map(|s| s.latency_ms.abs_diff(avg))
            .sum();
        let min = self.samples.iter().map(|s| s.latency_ms).min().unwrap_or(0);
        let max = self.samples.iter().map(|s| s.latency_ms).max().unwrap_or(0);
        (n, avg, dev / n, min, max)
    }

    fn check_invariants(&self) {
        debug_assert!(self.samples.len() <= HISTORY_LEN);
        debug_assert!(self
            .samples
            .iter()
            .zip(self.samples.iter().skip(1))
            .all(|(a, b)| a.time_s < b.time_s));
        debug_assert!(self.samples.iter().all(|s| s.latency_ms <= self.max_ms));
    }
}

#[derive(Default)]
pub struct LatencyMonitor {
    /// In the order the events were first seen; at most one entry per event.
    events: Vec<(Event, Series)>,
}

impl LatencyMonitor {
    /// Records that `event` took `latency_ms` at unix second `time_s` (the caller has
    /// checked the threshold).
    pub fn add(&mut self, event: Event, time_s: u64, latency_ms: u64) {
        let i = match self.events.iter().position(|(e, _)| *e == event) {
            Some(i) => i,
            None => {
                self.events.push((event, Series::default()));
                self.events.len() - 1
            }
        };
        let series = &mut self.events[i].1;
        series.add(time_s, latency_ms);
        series.check_invariants();
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn events(&self) -> impl Iterator<Item = (Event, &Series)> {
        self.events.iter().map(|(e, s)| (*e, s))
    }

    /// The series of the event named `name` (exactly, as Redis looks events up).
    pub fn get(&self, name: &[u8]) -> Option<(Event, &Series)> {
        self.events().find(|(e, _)| e.name().as_bytes() == name)
    }

    /// Drops every event (`None`) or the one named `name` (any case, as Redis); returns how
    /// many were dropped.
    pub fn reset(&mut self, name: Option<&[u8]>) -> usize {
        let before = self.events.len();
        match name {
            None => self.events.clear(),
            Some(n) => self
                .events
                .retain(|(e, _)| !e.name().as_bytes().eq_ignore_ascii_case(n)),
        }
        before - self.events.len()
    }
}

/// Sub-buckets per power of two in a command's histogram: a recorded time is off by less
/// than 1/32 (3%) of itself.
const SUB_BUCKETS: u64 = 32;
/// Longest time a histogram tells apart, in µs (1 s, Redis's ceiling); longer ones count
/// as this. Times under 1 µs count as 1 µs, as in Redis.
pub const HISTOGRAM_MAX_US: u64 = 1_000_000;
/// Buckets needed to reach `HISTOGRAM_MAX_US` (index of 2^20 - 1 is 511).
const BUCKETS: usize = 512;

/// One command's latency histogram (`latency-tracking`): log-linear buckets of µs, exact
/// below 64 µs, then 32 buckets per power of two; 4 KB per command that ran, whatever the
/// number of calls.
///
/// Invariant: no bucket straddles a power of two (so
/// the per-power-of-two counts LATENCY HISTOGRAM gives are exact).
pub struct Histogram {
    buckets: [u64; BUCKETS],
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: [0; BUCKETS],
        }
    }
}

/// The bucket of `us` (already clamped to 1..=HISTOGRAM_MAX_US).
#[inline]
fn bucket_of(us: u64) -> usize {
    if us < 2 * SUB_BUCKETS {
        return us as usize;
    }
    let shift = 63 - u64::from(us.leading_zeros()) - 5;
    (shift * SUB_BUCKETS + (us >> shift)) as usize
}

/// The lowest and highest µs that fall in bucket `i`.
fn bucket_range(i: usize) -> (u64, u64) {
    let i = i as u64;
    if i < 2 * SUB_BUCKETS {
        return (i, i);
    }
    let shift = i / SUB_BUCKETS - 1;
    let m = i - shift * SUB_BUCKETS;
    (m << shift, ((m + 1) << shift) - 1)
}

impl Histogram {
    /// Every call pays this (~28 instructions per call in all, with the tests in
    /// `cmd::call`), so it keeps to one increment: the total is summed when asked for.
    #[inline]
    pub fn record(&mut self, us: u64) {
        let us = us.clamp(1, HISTOGRAM_MAX_US);
        // The mask changes nothing (a clamped time's bucket is below BUCKETS) but spares
        // the bounds check.
        self.buckets[bucket_of(us) & (BUCKETS - 1)] += 1;
    }

    /// Calls recorded.
    pub fn total(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// The time under which `pct` percent of the calls ran, in µs: the top of the bucket
    /// that holds the call at that rank (at least the first call); 0 with no calls.
    pub fn percentile_us(&self, pct: f64) -> u64 {
        let rank = ((pct / 100.0) * self.total() as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if n > 0 && seen >= rank {
                return bucket_range(i).1;
            }
        }
        0
    }

    /// Cumulative counts per power of two: (2^k, calls that took less than 2^k µs), for
    /// each power of two above a bucket that holds calls.
    pub fn cumulative_pow2(&self) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        let mut seen = 0;
        for (i, &n) in self.buckets.iter().enumerate() {
            if n == 0 {
                continue;
            }
            seen += n;
            let key = (bucket_range(i).1 + 1).next_power_of_two();
            match out.last_mut() {
                Some(last) if last.0 == key => last.1 = seen,
                _ => out.push((key, seen)),
            }
        }
        out
    }

    pub fn check_invariants(&self) {
        debug_assert_eq!(self.buckets[0], 0, "times are clamped to 1 µs at least");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_keep_to_powers_of_two() {
        let mut next = 1;
        for i in 1..BUCKETS {
            let (lo, hi) = bucket_range(i);
            assert_eq!(lo, next, "bucket {i}");
            assert!(hi >= lo);
            assert_eq!(
                lo.ilog2(),
                hi.ilog2(),
                "bucket {i} straddles a power of two"
            );
            assert_eq!(bucket_of(lo), i);
            assert_eq!(bucket_of(hi), i);
            // Width under 1/32 of the values it holds.
            assert!((hi - lo) * SUB_BUCKETS <= lo, "bucket {i}");
            next = hi + 1;
        }
        assert!(bucket_range(BUCKETS - 1).1 >= HISTOGRAM_MAX_US);
    }

    #[test]
    fn percentiles_and_cumulative_counts() {
        let mut h = Histogram::default();
        for us in [0, 1, 3, 3, 100, 100_000, 5_000_000] {
            h.record(us);
        }
        h.check_invariants();
        assert_eq!(h.total(), 7);
        assert_eq!(h.percentile_us(0.0), 1);
        assert_eq!(h.percentile_us(50.0), 3);
        assert_eq!(
            h.percentile_us(100.0),
            bucket_range(bucket_of(HISTOGRAM_MAX_US)).1
        );
        let p = h.percentile_us(70.0);
        assert!((100..=103).contains(&p), "{p}");
        assert_eq!(
            h.cumulative_pow2(),
            vec![(2, 2), (4, 4), (128, 5), (131_072, 6), (1_048_576, 7)]
        );
    }

    #[test]
    fn one_sample_a_second_the_worst_and_160_kept() {
        let mut m = LatencyMonitor::default();
        m.add(Event::Command, 100, 20);
        m.add(Event::Command, 100, 50);
        m.add(Event::Command, 100, 30);
        let (_, s) = m.get(b"command").unwrap();
        assert_eq!(
            s.latest(),
            Some(Sample {
                time_s: 100,
                latency_ms: 50
            })
        );
        for t in 101..400 {
            m.add(Event::Command, t, t % 7);
        }
        let (_, s) = m.get(b"command").unwrap();
        assert_eq!(s.samples().count(), HISTORY_LEN);
        assert_eq!(s.samples().next().unwrap().time_s, 400 - HISTORY_LEN as u64);
        assert_eq!(s.max_ms, 50);
        assert_eq!(s.stats().0, HISTORY_LEN as u64);
    }

    #[test]
    fn reset_matches_names_in_any_case() {
        let mut m = LatencyMonitor::default();
        m.add(Event::Command, 1, 1);
        m.add(Event::FastCommand, 1, 1);
        assert!(m.get(b"COMMAND").is_none());
        assert_eq!(m.reset(Some(b"COMMAND")), 1);
        assert_eq!(m.reset(Some(b"nothing")), 0);
        assert_eq!(m.reset(None), 1);
        assert!(m.is_empty());
    }
}
