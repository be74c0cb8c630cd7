//! Trend history across snapshots: aliases of absorbed trend ids and the archive of trends that left the window.
//!
//! The graph names each trend after its earliest live article, so an id disappears when trends
//! merge, when a deletion splits a trend, or when articles leave the window. The ledger reads
//! each committed epoch's changes in order and records what became of every id that
//! disappeared:
//! - its articles moved to other trends → `trend_aliases` row `alias_id → trend_id` (the trend
//!   that received most of them; ties → smallest id), and aliases that pointed to it follow;
//! - it had left the window (last article older than watermark − window) → `archived_trends`
//!   row with its final state;
//! - otherwise (its articles were deleted) → nothing.
//!
//! An id that comes back (e.g. an article deleted and re-added) stops being an alias.
//! Aliases record ids that were published, so unlike the trend tables they depend on how the
//! input was cut into epochs.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{TrendArticleRow, TrendRow};
use crate::event::TimestampMs;
use crate::output::Row;

/// `trend_aliases`: an absorbed id and the live trend it now resolves to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TrendAliasRow {
    pub alias_id: String,
    pub trend_id: String,
}

/// `archived_trends`: the final state of a trend whose articles all left the window.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ArchivedTrendRow {
    pub trend: TrendRow,
    /// The watermark when it was archived.
    pub archived_at: TimestampMs,
}

/// Changes the ledger asks the sinks to apply, beside the graph's own.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LedgerChanges {
    pub upserts: Vec<Row>,
    pub deletes: Vec<Row>,
}

/// Alias state carried from epoch to epoch.
#[derive(Clone, Debug, Default)]
pub struct TrendLedger {
    /// alias id → live trend id.
    aliases: BTreeMap<String, String>,
    /// live trend id → its aliases (the reverse of `aliases`), so that an epoch's work is
    /// proportional to the ids it touches, not to every alias ever recorded.
    aliased: BTreeMap<String, BTreeSet<String>>,
    window_ms: i64,
}

impl TrendLedger {
    pub fn new(window_ms: i64) -> TrendLedger {
        TrendLedger {
            aliases: BTreeMap::new(),
            aliased: BTreeMap::new(),
            window_ms,
        }
    }

    /// Restores aliases (e.g. read back from a sink on restart).
    pub fn with_aliases(mut self, aliases: impl IntoIterator<Item = (String, String)>) -> Self {
        for (alias, target) in aliases {
            self.set_alias(alias, target);
        }
        self
    }

    /// Points `alias` at `target`; returns the target it had.
    fn set_alias(&mut self, alias: String, target: String) -> Option<String> {
        let old = self.aliases.insert(alias.clone(), target.clone());
        if let Some(old) = &old {
            self.unlink(&alias, old);
        }
        self.aliased.entry(target).or_default().insert(alias);
        old
    }

    /// Removes `alias`; returns the target it had.
    fn remove_alias(&mut self, alias: &str) -> Option<String> {
        let old = self.aliases.remove(alias)?;
        self.unlink(alias, &old);
        Some(old)
    }

    fn unlink(&mut self, alias: &str, target: &str) {
        if let Some(set) = self.aliased.get_mut(target) {
            set.remove(alias);
            if set.is_empty() {
                self.aliased.remove(target);
            }
        }
    }

    /// The aliases that resolve to `target`, in order.
    fn aliases_of(&self, target: &str) -> Vec<String> {
        self.aliased
            .get(target)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn aliases(&self) -> &BTreeMap<String, String> {
        &self.aliases
    }

    /// Reads one epoch's net row changes (`diff` > 0 added, < 0 removed) and the watermark
    /// after the epoch; returns the alias and archive rows to write.
    pub fn apply<'a>(
        &mut self,
        changes: impl IntoIterator<Item = (&'a Row, i64)>,
        watermark: Option<TimestampMs>,
    ) -> LedgerChanges {
        let mut removed_trends: BTreeMap<&str, &TrendRow> = BTreeMap::new();
        let mut added_trends: BTreeSet<&str> = BTreeSet::new();
        let mut moved_from: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        let mut moved_to: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        for (row, diff) in changes {
            match (row, diff.signum()) {
                (Row::Trend(t), -1) => {
                    removed_trends.insert(&t.trend_id, t);
                }
                (Row::Trend(t), 1) => {
                    added_trends.insert(&t.trend_id);
                }
                (Row::TrendArticle(a), -1) => {
                    moved_from.insert(article(a), &a.trend_id);
                }
                (Row::TrendArticle(a), 1) => {
                    moved_to.insert(article(a), &a.trend_id);
                }
                _ => {}
            }
        }
        // The articles that left each trend.
        let mut left: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for (a, from) in &moved_from {
            left.entry(*from).or_default().push(*a);
        }
        let mut out = LedgerChanges::default();
        // Ids that are live again are no longer aliases.
        for id in &added_trends {
            if let Some(target) = self.remove_alias(id) {
                out.deletes.push(alias_row(id, &target));
            }
        }
        for (id, last) in removed_trends {
            if added_trends.contains(id) {
                continue;
            }
            let mut receivers: BTreeMap<&str, u64> = BTreeMap::new();
            for a in left.get(id).into_iter().flatten() {
                if let Some(to) = moved_to.get(a) {
                    *receivers.entry(to).or_insert(0) += 1;
                }
            }
            let successor = receivers
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(to, _)| to.to_string());
            match successor {
                Some(to) => {
                    let mut retarget = self.aliases_of(id);
                    retarget.push(id.to_string());
                    for alias in retarget {
                        if let Some(old) = self.set_alias(alias.clone(), to.clone()) {
                            out.deletes.push(alias_row(&alias, &old));
                        }
                        out.upserts.push(alias_row(&alias, &to));
                    }
                }
                None => {
                    let expired = watermark
                        .is_some_and(|wm| last.last_published_at < wm - self.window_ms + 60_000);
                    if expired {
                        out.upserts.push(Row::ArchivedTrend(ArchivedTrendRow {
                            trend: last.clone(),
                            archived_at: watermark.unwrap_or_default(),
                        }));
                    }
                    // Aliases of a vanished trend have nothing left to resolve to.
                    for alias in self.aliases_of(id) {
                        self.remove_alias(&alias);
                        out.deletes.push(alias_row(&alias, id));
                    }
                }
            }
        }
        out
    }
}

fn article(a: &TrendArticleRow) -> (&str, &str) {
    (&a.source, &a.external_id)
}

fn alias_row(alias: &str, target: &str) -> Row {
    Row::TrendAlias(TrendAliasRow {
        alias_id: alias.to_string(),
        trend_id: target.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trend(id: &str, last: TimestampMs) -> Row {
        Row::Trend(TrendRow {
            trend_id: id.into(),
            headline: "h".into(),
            keywords: vec![],
            article_count: 1,
            story_count: 1,
            source_count: 1,
            first_published_at: 0,
            last_published_at: last,
            articles_1h: 0,
            articles_24h: 0,
            rising_score: 0,
        })
    }

    fn member(ext: &str, id: &str) -> Row {
        Row::TrendArticle(TrendArticleRow {
            source: "s".into(),
            external_id: ext.into(),
            trend_id: id.into(),
            story_id: "d".into(),
            published_at: 0,
            title: "t".into(),
        })
    }

    fn apply(ledger: &mut TrendLedger, changes: &[(Row, i64)], wm: TimestampMs) -> LedgerChanges {
        ledger.apply(changes.iter().map(|(r, d)| (r, *d)), Some(wm))
    }

    #[test]
    fn merge_records_alias_and_chains_follow() {
        let mut l = TrendLedger::new(3_600_000);
        // a and b merge into a.
        let c = apply(
            &mut l,
            &[
                (trend("b", 10), -1),
                (member("2", "b"), -1),
                (member("2", "a"), 1),
                (trend("a", 10), 1),
            ],
            1_000,
        );
        assert_eq!(c.upserts, vec![alias_row("b", "a")]);
        // a merges into z: b follows.
        let c = apply(
            &mut l,
            &[
                (trend("a", 10), -1),
                (member("1", "a"), -1),
                (member("1", "z"), 1),
                (member("2", "a"), -1),
                (member("2", "z"), 1),
            ],
            2_000,
        );
        assert!(
            c.upserts.contains(&alias_row("a", "z")) && c.upserts.contains(&alias_row("b", "z"))
        );
        assert_eq!(c.deletes, vec![alias_row("b", "a")]);
        assert_eq!(l.aliases().get("b").map(String::as_str), Some("z"));
        // b comes back as a live trend: no longer an alias.
        let c = apply(&mut l, &[(trend("b", 3_000), 1)], 3_000);
        assert_eq!(c.deletes, vec![alias_row("b", "z")]);
    }

    #[test]
    fn expiry_archives_and_deletion_does_not() {
        let mut l = TrendLedger::new(3_600_000);
        let c = apply(
            &mut l,
            &[(trend("old", 0), -1), (member("1", "old"), -1)],
            3_600_000,
        );
        assert!(matches!(&c.upserts[..], [Row::ArchivedTrend(a)] if a.trend.trend_id == "old"));
        let c = apply(
            &mut l,
            &[(trend("new", 3_000_000), -1), (member("2", "new"), -1)],
            3_600_000,
        );
        assert!(
            c.upserts.is_empty(),
            "a deleted trend is not archived: {c:?}"
        );
    }

    /// The ledger as first written (every removed id scanned every moved article and every
    /// alias): the reference for the indexed one.
    fn reference_apply(
        aliases: &mut BTreeMap<String, String>,
        window_ms: i64,
        changes: &[(Row, i64)],
        watermark: TimestampMs,
    ) -> LedgerChanges {
        let mut removed_trends: BTreeMap<&str, &TrendRow> = BTreeMap::new();
        let mut added_trends: BTreeSet<&str> = BTreeSet::new();
        let mut moved_from: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        let mut moved_to: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        for (row, diff) in changes {
            match (row, diff.signum()) {
                (Row::Trend(t), -1) => {
                    removed_trends.insert(&t.trend_id, t);
                }
                (Row::Trend(t), 1) => {
                    added_trends.insert(&t.trend_id);
                }
                (Row::TrendArticle(a), -1) => {
                    moved_from.insert(article(a), &a.trend_id);
                }
                (Row::TrendArticle(a), 1) => {
                    moved_to.insert(article(a), &a.trend_id);
                }
                _ => {}
            }
        }
        let mut out = LedgerChanges::default();
        for id in &added_trends {
            if let Some(target) = aliases.remove(*id) {
                out.deletes.push(alias_row(id, &target));
            }
        }
        for (id, last) in removed_trends {
            if added_trends.contains(id) {
                continue;
            }
            let mut receivers: BTreeMap<&str, u64> = BTreeMap::new();
            for (a, from) in &moved_from {
                if *from == id {
                    if let Some(to) = moved_to.get(a) {
                        *receivers.entry(to).or_insert(0) += 1;
                    }
                }
            }
            let successor = receivers
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(to, _)| to.to_string());
            let pointing: Vec<String> = aliases
                .iter()
                .filter(|(_, target)| target.as_str() == id)
                .map(|(alias, _)| alias.clone())
                .collect();
            match successor {
                Some(to) => {
                    let mut retarget = pointing;
                    retarget.push(id.to_string());
                    for alias in retarget {
                        if let Some(old) = aliases.insert(alias.clone(), to.clone()) {
                            out.deletes.push(alias_row(&alias, &old));
                        }
                        out.upserts.push(alias_row(&alias, &to));
                    }
                }
                None => {
                    if last.last_published_at < watermark - window_ms + 60_000 {
                        out.upserts.push(Row::ArchivedTrend(ArchivedTrendRow {
                            trend: last.clone(),
                            archived_at: watermark,
                        }));
                    }
                    for alias in pointing {
                        aliases.remove(&alias);
                        out.deletes.push(alias_row(&alias, id));
                    }
                }
            }
        }
        out
    }

    /// Random epochs of articles moving between a few trend ids, appearing and disappearing:
    /// the indexed ledger gives the reference's rows, in the same order, and the same aliases.
    #[test]
    fn agrees_with_the_reference_on_random_epochs() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..20 {
            let window_ms = 3_600_000;
            // Restored aliases, one pair given twice (a sink read back with duplicates).
            let restored = [("t7", "t1"), ("t8", "t2"), ("t7", "t1")];
            let mut ledger = TrendLedger::new(window_ms)
                .with_aliases(restored.map(|(a, t)| (a.to_string(), t.to_string())));
            let mut aliases: BTreeMap<String, String> = restored
                .iter()
                .map(|(a, t)| (a.to_string(), t.to_string()))
                .collect();
            // article → its trend id; trend ids from a small pool so that they come back.
            let mut member_of: BTreeMap<String, String> = BTreeMap::new();
            let mut wm = 0;
            for _ in 0..40 {
                wm += next(3) as i64 * 1_800_000;
                let mut after = member_of.clone();
                for _ in 0..next(6) {
                    let article = format!("a{}", next(12));
                    if next(4) == 0 {
                        after.remove(&article);
                    } else {
                        after.insert(article, format!("t{}", next(6)));
                    }
                }
                let trends = |m: &BTreeMap<String, String>| -> BTreeSet<String> {
                    m.values().cloned().collect()
                };
                let (before_ids, after_ids) = (trends(&member_of), trends(&after));
                let mut changes = Vec::new();
                for (a, t) in &member_of {
                    if after.get(a) != Some(t) {
                        changes.push((member(a, t), -1));
                    }
                }
                for (a, t) in &after {
                    if member_of.get(a) != Some(t) {
                        changes.push((member(a, t), 1));
                    }
                }
                for id in before_ids.difference(&after_ids) {
                    changes.push((trend(id, wm - next(3) as i64 * 2_400_000), -1));
                }
                for id in after_ids.difference(&before_ids) {
                    changes.push((trend(id, wm), 1));
                }
                let got = apply(&mut ledger, &changes, wm);
                let want = reference_apply(&mut aliases, window_ms, &changes, wm);
                assert_eq!(got, want);
                assert_eq!(ledger.aliases(), &aliases);
                let mut reverse: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
                for (alias, target) in &aliases {
                    reverse
                        .entry(target.clone())
                        .or_default()
                        .insert(alias.clone());
                }
                assert_eq!(ledger.aliased, reverse);
                member_of = after;
            }
        }
    }
}
