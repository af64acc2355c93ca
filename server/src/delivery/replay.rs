//! The reference-incident replay: a realistic, deterministic dataset of the service around the
//! incident of 24 February – 1 March 2021 (see `shared/docs/REFERENCE_INCIDENT.md`).
//!
//! Thousands of companies send releases before, during and after the window, to recipient
//! lists whose sizes are long-tailed (a handful to tens of thousands). During the window, mail
//! whose recipient has a letter a–m just before the `@` goes over the new cloud route; every
//! other message, and all mail outside the window, over the legacy route. Ordinary failures
//! (unknown mailboxes, full mailboxes, spam filters, timeouts, lost connections) happen at
//! realistic rates with realistic SMTP replies. The incident itself: the cloud route refuses
//! company sender domains, so import-list releases with a company sender lose exactly their a–m
//! recipients — 2,310 messages in 228 releases of 117 companies, with the postmortem's
//! histogram, at every scale. `--scale 1` also reproduces the 14,012,784 messages of the window.
//!
//! The same seed gives the same rows, whatever the database.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::store::rows::{AttemptRow, Batch, CompanyRow, MessageRow, ReleaseRow};

/// Messages queued in the reference window at `--scale 1`.
pub const REFERENCE_MESSAGES: i64 = 14_012_784;
pub const REFERENCE_COMPANIES: usize = 117;
pub const REFERENCE_RELEASES: usize = 228;
pub const REFERENCE_UNSENT: i64 = 2_310;
/// The postmortem's histogram: (from, to, releases) of unsent messages per release.
pub const REFERENCE_HISTOGRAM: [(i64, i64, usize); 6] =
    [(1, 5, 116), (6, 10, 42), (11, 25, 54), (26, 50, 11), (51, 75, 4), (76, 148, 1)];

/// The service's own default sender address.
pub const DEFAULT_SENDER: &str = "info@pressmail.example";

/// How fast one release's messages are queued.
const MESSAGES_PER_SECOND: i64 = 200;
/// Messages per batch handed to the loader.
const BATCH_MESSAGES: usize = 20_000;
/// Messages in each of the two-day periods either side of the window, relative to the window's.
const SIDE_TRAFFIC: f64 = 0.15;

/// The reference window, `[start, end)`: 2021-02-24 21:00 to 2021-03-01 17:35 JST.
pub fn window() -> (DateTime<Utc>, DateTime<Utc>) {
    let jst = chrono::FixedOffset::east_opt(9 * 3600).expect("valid offset");
    let start = jst.with_ymd_and_hms(2021, 2, 24, 21, 0, 0).unwrap();
    let end = jst.with_ymd_and_hms(2021, 3, 1, 17, 35, 0).unwrap();
    (start.to_utc(), end.to_utc())
}

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct ReplayOptions {
    /// 1 reproduces the reference traffic; smaller values shrink the background traffic only.
    pub scale: f64,
    pub seed: u64,
}

/// A small, fast, seedable generator (SplitMix64): the dataset must be identical on every
/// machine and for every seed, so it does not depend on any library's choice of algorithm.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[low, high]`.
    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next_u64() % (high - low + 1) as u64) as i64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next_u64() as usize % items.len()]
    }

    /// A recipient-list size: Pareto-like, from 20 to 50,000 (most lists small, a few huge).
    fn list_size(&mut self) -> i64 {
        let u = self.unit().max(1e-12);
        ((20.0 / u.powf(1.0 / 0.9)) as i64).min(50_000)
    }
}

/// One release to generate.
#[derive(Clone, Debug)]
struct Plan {
    company: usize,
    sent_at: DateTime<Utc>,
    import_list: bool,
    default_sender: bool,
    recipients: i64,
    /// For the incident's releases: how many recipients fall on the broken route.
    unsent: i64,
    in_window: bool,
}

/// The dataset, produced batch by batch.
pub struct Replay {
    rng: Rng,
    companies: Option<Vec<CompanyRow>>,
    /// Each company's own sender domain.
    domains: Vec<String>,
    plans: Vec<Plan>,
    next_plan: usize,
    next_message_id: i64,
    /// Messages in the whole dataset.
    pub total_messages: i64,
    /// Messages queued in the window.
    pub window_messages: i64,
}

impl Replay {
    pub fn new(options: ReplayOptions) -> Replay {
        let mut rng = Rng(options.seed ^ 0x5eed_5eed);
        let (start, end) = window();
        let company_count = ((3000.0 * options.scale.max(0.0).sqrt()).round() as usize).clamp(200, 20_000);
        let companies = companies(&mut rng, company_count);
        let domains = companies.iter().map(|c| format!("{}.example", c.slug)).collect();

        // The incident: 228 releases of 117 companies, unsent counts as in the postmortem.
        let mut order: Vec<usize> = (0..company_count).collect();
        shuffle(&mut rng, &mut order);
        let affected = &order[..REFERENCE_COMPANIES];
        let mut plans = Vec::new();
        for (i, unsent) in incident_counts(&mut rng).into_iter().enumerate() {
            let company = if i < REFERENCE_COMPANIES { affected[i] } else { *rng.pick(affected) };
            // About a quarter of a list has a letter a–m before the `@`.
            let recipients = unsent * 4 + rng.range(0, unsent);
            plans.push(Plan {
                company,
                sent_at: fitting_time(&mut rng, (start, end), recipients),
                import_list: true,
                default_sender: false,
                recipients,
                unsent,
                in_window: true,
            });
        }

        // Everything else in the window, to exactly the reference total (scaled). Import lists in
        // the window use the default sender: the incident's releases are the only ones that don't.
        let incident_messages: i64 = plans.iter().map(|p| p.recipients).sum();
        let window_messages =
            ((REFERENCE_MESSAGES as f64 * options.scale).round() as i64).max(incident_messages);
        background(
            &mut rng,
            &mut plans,
            company_count,
            (start, end),
            window_messages - incident_messages,
            true,
        );
        // A lighter two days either side, all on the legacy route.
        let side = (window_messages as f64 * SIDE_TRAFFIC).round() as i64;
        background(&mut rng, &mut plans, company_count, (start - Duration::days(2), start), side, false);
        background(&mut rng, &mut plans, company_count, (end, end + Duration::days(2)), side, false);

        plans.sort_by_key(|p| p.sent_at);
        let total_messages = plans.iter().map(|p| p.recipients).sum();
        Replay {
            rng,
            companies: Some(companies),
            domains,
            plans,
            next_plan: 0,
            next_message_id: 1,
            total_messages,
            window_messages,
        }
    }

    /// Generates one release: its row, messages and attempts.
    fn release(&mut self, index: usize, batch: &mut Batch) {
        let plan = self.plans[index].clone();
        let release_id = index as i64 + 1;
        let company_id = plan.company as i64 + 1;
        let domain = self.domains[plan.company].clone();
        batch.releases.push(ReleaseRow {
            id: release_id,
            company_id,
            title: format!("{}（No.{release_id}）", self.rng.pick(&TITLES)),
            sender_address: if plan.default_sender {
                DEFAULT_SENDER.to_string()
            } else {
                format!("press@{domain}")
            },
            sender_is_default: plan.default_sender,
            recipient_source: if plan.import_list { "import_list" } else { "media_list" },
            created_at: plan.sent_at - Duration::hours(2),
            sent_at: plan.sent_at,
        });
        for i in 0..plan.recipients {
            let a_to_m = if plan.unsent > 0 {
                // The incident's recipients, spread evenly through the list.
                (i + 1) * plan.unsent / plan.recipients > i * plan.unsent / plan.recipients
            } else {
                self.rng.unit() < 0.25
            };
            let message = MessageDraft {
                id: self.next_message_id,
                company_id,
                release_id,
                recipient: self.recipient(i, a_to_m),
                route: if plan.in_window && a_to_m { "cloud" } else { "legacy" },
                queued_at: plan.sent_at + Duration::seconds(i / MESSAGES_PER_SECOND),
            };
            self.next_message_id += 1;
            if plan.unsent > 0 && a_to_m {
                message.refused_by_cloud_route(&domain, batch);
            } else {
                message.ordinary(&mut self.rng, batch);
            }
        }
    }

    /// A unique address in the list: `word.<index><last>@outlet`, where `last` decides the route.
    fn recipient(&mut self, index: i64, a_to_m: bool) -> String {
        let last =
            if a_to_m { (b'a' + self.rng.range(0, 12) as u8) as char } else { *self.rng.pick(&OTHER_LAST) };
        let word = self.rng.pick(&LOCAL_WORDS);
        let outlet = self.rng.pick(&MEDIA_DOMAINS);
        format!("{word}.{index}{last}@{outlet}")
    }
}

impl Iterator for Replay {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let mut batch = Batch { companies: self.companies.take().unwrap_or_default(), ..Batch::default() };
        while self.next_plan < self.plans.len() && batch.messages.len() < BATCH_MESSAGES {
            self.release(self.next_plan, &mut batch);
            self.next_plan += 1;
        }
        (batch.rows() > 0).then_some(batch)
    }
}

/// A message about to be given its fate.
struct MessageDraft {
    id: i64,
    company_id: i64,
    release_id: i64,
    recipient: String,
    route: &'static str,
    queued_at: DateTime<Utc>,
}

/// One SMTP exchange: code, enhanced code, reply, and the outcome it means.
type Reply = (i32, &'static str, String, &'static str);

impl MessageDraft {
    /// The incident: the cloud route refuses the company's unregistered sender domain.
    fn refused_by_cloud_route(self, domain: &str, batch: &mut Batch) {
        let reply = format!(
            "554 5.7.1 Sending domain {domain} is not verified for this account; the message was not sent"
        );
        self.finish(
            batch,
            "not_sent",
            Some("sender_domain_unverified"),
            vec![(554, "5.7.1", reply, "not_sent")],
        );
    }

    /// Everything else: mostly sent, with the ordinary failures of a large mail service.
    fn ordinary(self, rng: &mut Rng, batch: &mut Batch) {
        let fate = rng.unit();
        let sent = |rng: &mut Rng| {
            (250, "2.0.0", format!("250 2.0.0 Ok: queued as {:010X}", rng.next_u64() >> 24), "sent")
        };
        let timeout = || {
            (
                421,
                "4.4.2",
                "421 4.4.2 Connection timed out while waiting for the server".to_string(),
                "deferred",
            )
        };
        let addr = &self.recipient;
        let (status, class, replies): (&str, Option<&str>, Vec<Reply>) = match fate {
            f if f < 0.0040 => (
                "bounced",
                Some("mailbox_unknown"),
                vec![(
                    550,
                    "5.1.1",
                    format!(
                        "550 5.1.1 <{addr}>: Recipient address rejected: User unknown in virtual mailbox table"
                    ),
                    "bounced",
                )],
            ),
            f if f < 0.0050 => (
                "bounced",
                Some("domain_not_found"),
                vec![(
                    550,
                    "5.1.2",
                    format!("550 5.1.2 <{addr}>: Recipient address rejected: Domain not found"),
                    "bounced",
                )],
            ),
            f if f < 0.0055 => (
                "bounced",
                Some("mailbox_full"),
                vec![
                    (452, "4.2.2", "452 4.2.2 Mailbox full, try again later".to_string(), "deferred"),
                    (552, "5.2.2", "552 5.2.2 Mailbox full: quota exceeded".to_string(), "bounced"),
                ],
            ),
            f if f < 0.0058 => (
                "bounced",
                Some("rejected_as_spam"),
                vec![(
                    554,
                    "5.7.1",
                    "554 5.7.1 Message rejected as spam by content filter".to_string(),
                    "bounced",
                )],
            ),
            f if f < 0.0059 => ("failed", Some("timeout"), {
                let mut tries: Vec<Reply> = (0..5).map(|_| timeout()).collect();
                tries[4].3 = "failed";
                tries
            }),
            f if f < 0.00595 => ("deferred", Some("timeout"), vec![timeout()]),
            f if f < 0.00597 => ("unknown", Some("connection_lost"), vec![(0, "", String::new(), "unknown")]),
            f if f < 0.01597 => ("sent", None, vec![timeout(), sent(rng)]),
            _ => ("sent", None, vec![sent(rng)]),
        };
        self.finish(batch, status, class, replies);
    }

    fn finish(
        self,
        batch: &mut Batch,
        status: &'static str,
        error_class: Option<&'static str>,
        replies: Vec<Reply>,
    ) {
        let mut attempted_at = self.queued_at + Duration::seconds(1);
        let attempts = replies.len() as i32;
        let mut last_at = attempted_at;
        let mut last_reply = None;
        for (n, (code, enhanced, reply, outcome)) in replies.into_iter().enumerate() {
            let known = code != 0;
            batch.attempts.push(AttemptRow {
                message_id: self.id,
                attempt: n as i32 + 1,
                attempted_at,
                route: self.route,
                smtp_code: known.then_some(code),
                enhanced_code: known.then_some(enhanced),
                reply: known.then(|| reply.clone()),
                outcome,
            });
            last_at = attempted_at;
            last_reply = known.then_some((code, enhanced, reply));
            // Retries back off: 15 minutes, then doubling.
            attempted_at += Duration::minutes(15 << n.min(4));
        }
        batch.messages.push(MessageRow {
            id: self.id,
            company_id: self.company_id,
            release_id: self.release_id,
            recipient: self.recipient,
            route: self.route,
            status,
            error_class,
            smtp_code: last_reply.as_ref().map(|r| r.0),
            enhanced_code: last_reply.as_ref().map(|r| r.1),
            smtp_reply: last_reply.map(|r| r.2),
            attempts,
            queued_at: self.queued_at,
            last_attempt_at: last_at,
        });
    }
}

/// The incident's unsent counts, one per release: exactly the postmortem's histogram, minimum 1,
/// maximum 148, total 2,310.
fn incident_counts(rng: &mut Rng) -> Vec<i64> {
    let mut counts: Vec<(i64, i64, i64)> = Vec::new(); // (count, bucket low, bucket high)
    for (low, high, releases) in REFERENCE_HISTOGRAM {
        for _ in 0..releases {
            counts.push((rng.range(low, high), low, high));
        }
    }
    // Pin the extremes, then move the total to 2,310 one step at a time, within each bucket.
    counts[0].0 = 1;
    let last = counts.len() - 1;
    counts[last].0 = 148;
    let mut total: i64 = counts.iter().map(|c| c.0).sum();
    let mut i = 1;
    while total != REFERENCE_UNSENT {
        let c = &mut counts[1 + i % (last - 1)];
        if total < REFERENCE_UNSENT && c.0 < c.2 {
            c.0 += 1;
            total += 1;
        } else if total > REFERENCE_UNSENT && c.0 > c.1 {
            c.0 -= 1;
            total -= 1;
        }
        i += 1;
    }
    let mut counts: Vec<i64> = counts.into_iter().map(|c| c.0).collect();
    shuffle(rng, &mut counts);
    counts
}

/// Plans ordinary releases over `period` until they hold `messages` messages in all.
fn background(
    rng: &mut Rng,
    plans: &mut Vec<Plan>,
    companies: usize,
    period: (DateTime<Utc>, DateTime<Utc>),
    mut messages: i64,
    in_window: bool,
) {
    while messages > 0 {
        let recipients = rng.list_size().min(messages);
        messages -= recipients;
        let import_list = rng.unit() < 0.4;
        plans.push(Plan {
            company: rng.range(0, companies as i64 - 1) as usize,
            sent_at: fitting_time(rng, period, recipients),
            import_list,
            default_sender: (import_list && in_window) || rng.unit() < 0.5,
            recipients,
            unsent: 0,
            in_window,
        });
    }
}

/// A start time in `period` such that all of a release's messages are queued inside it.
fn fitting_time(
    rng: &mut Rng,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    recipients: i64,
) -> DateTime<Utc> {
    let span = (end - start).num_seconds() - recipients / MESSAGES_PER_SECOND - 1;
    start + Duration::seconds(rng.range(0, span.max(0)))
}

fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.range(0, i as i64) as usize;
        items.swap(i, j);
    }
}

fn companies(rng: &mut Rng, count: usize) -> Vec<CompanyRow> {
    let created = Utc.with_ymd_and_hms(2018, 4, 1, 0, 0, 0).unwrap();
    (0..count)
        .map(|i| {
            let (ja_a, en_a) = *rng.pick(&NAME_HEADS);
            let (ja_b, en_b) = *rng.pick(&NAME_TAILS);
            let slug = format!("{en_a}-{en_b}-{}", i + 1);
            CompanyRow {
                id: i as i64 + 1,
                contact_email: format!("pr@{slug}.example"),
                name: format!("{ja_a}{ja_b}株式会社"),
                slug,
                language: if rng.unit() < 0.1 { "en" } else { "ja" },
                created_at: created + Duration::days(rng.range(0, 900)),
            }
        })
        .collect()
}

const NAME_HEADS: [(&str, &str); 16] = [
    ("あおば", "aoba"),
    ("さくら", "sakura"),
    ("みなと", "minato"),
    ("ひかり", "hikari"),
    ("つばさ", "tsubasa"),
    ("やまと", "yamato"),
    ("はやて", "hayate"),
    ("いろは", "iroha"),
    ("かえで", "kaede"),
    ("しずく", "shizuku"),
    ("東雲", "shinonome"),
    ("北斗", "hokuto"),
    ("富士", "fuji"),
    ("瑞穂", "mizuho"),
    ("大和", "daiwa"),
    ("青葉", "seiyo"),
];
const NAME_TAILS: [(&str, &str); 12] = [
    ("電機", "denki"),
    ("食品", "foods"),
    ("製薬", "pharma"),
    ("システムズ", "systems"),
    ("商事", "shoji"),
    ("化学", "chemical"),
    ("ホールディングス", "holdings"),
    ("出版", "publishing"),
    ("ソフト", "soft"),
    ("物産", "bussan"),
    ("技研", "giken"),
    ("工業", "kogyo"),
];
const TITLES: [&str; 10] = [
    "新製品発売のお知らせ",
    "業務提携に関するお知らせ",
    "新サービス提供開始のお知らせ",
    "決算説明会開催のご案内",
    "代表取締役交代のお知らせ",
    "新工場竣工のお知らせ",
    "キャンペーン実施のお知らせ",
    "調査結果の発表",
    "イベント開催のご案内",
    "価格改定のお知らせ",
];
const LOCAL_WORDS: [&str; 12] = [
    "press", "news", "editor", "desk", "kisha", "henshu", "media", "report", "tech", "biz", "info", "sangyo",
];
/// Characters before the `@` that keep a message on the legacy route.
const OTHER_LAST: [char; 23] = [
    'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '0', '1', '2', '3', '4', '5', '6', '7',
    '8', '9',
];
const MEDIA_DOMAINS: [&str; 12] = [
    "daily-keizai.example",
    "tokyo-shimbun-news.example",
    "kansai-times.example",
    "tech-watch.example",
    "business-online.example",
    "nikko-press.example",
    "sangyo-journal.example",
    "web-media.example",
    "trend-news.example",
    "finance-daily.example",
    "local-news.example",
    "magazine-hub.example",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_counts_match_the_postmortem_exactly() {
        for seed in 0..20 {
            let counts = incident_counts(&mut Rng(seed));
            assert_eq!(counts.len(), REFERENCE_RELEASES);
            assert_eq!(counts.iter().sum::<i64>(), REFERENCE_UNSENT);
            assert_eq!(counts.iter().min(), Some(&1));
            assert_eq!(counts.iter().max(), Some(&148));
            for (low, high, releases) in REFERENCE_HISTOGRAM {
                assert_eq!(
                    counts.iter().filter(|&&c| c >= low && c <= high).count(),
                    releases,
                    "seed {seed}"
                );
            }
        }
    }

    #[test]
    fn the_window_is_the_reference_window() {
        let (start, end) = window();
        assert_eq!(start.to_rfc3339(), "2021-02-24T12:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2021-03-01T08:35:00+00:00");
    }

    #[test]
    fn the_same_seed_gives_the_same_rows() {
        let options = ReplayOptions { scale: 0.001, seed: 7 };
        let first: Vec<String> =
            Replay::new(options).flat_map(|b| b.messages).map(|m| format!("{m:?}")).collect();
        let second: Vec<String> =
            Replay::new(options).flat_map(|b| b.messages).map(|m| format!("{m:?}")).collect();
        assert_eq!(first, second);
        let other: Vec<String> = Replay::new(ReplayOptions { seed: 8, ..options })
            .flat_map(|b| b.messages)
            .map(|m| format!("{m:?}"))
            .collect();
        assert_ne!(first, other);
    }

    #[test]
    fn scaled_window_traffic_is_exact() {
        let replay = Replay::new(ReplayOptions { scale: 0.002, seed: 1 });
        let expected = replay.window_messages;
        assert_eq!(expected, (REFERENCE_MESSAGES as f64 * 0.002).round() as i64);
        let (start, end) = window();
        let in_window =
            replay.flat_map(|b| b.messages).filter(|m| m.queued_at >= start && m.queued_at < end).count();
        assert_eq!(in_window as i64, expected);
    }
}
