//! Six months of demo history, so the dashboards and KPI reports have something to say:
//! customers across the dealers' cities, tickets in every category at the covering
//! station, work logs with handle times, resolutions, a few reopened tickets, survey
//! answers and SLA clocks that were mostly, not always, met.
//!
//! Written straight to storage with past timestamps (the live path stamps "now"), from a
//! fixed seed so every demo shows the same figures.

use std::collections::HashMap;

use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::org::SiteKind;
use crate::domain::page::Page;
use crate::domain::records::{
    Direction, InteractionKind, NotifyChannel, Priority, Ticket, TicketChannel, TicketStatus,
};
use crate::domain::sla::ClockKind;
use crate::service::Core;
use crate::store::customers::NewCustomer;
use crate::store::interactions::{self, NewInteraction};
use crate::store::org::{self, SiteFilter};
use crate::store::sla::{self, NewClock};
use crate::store::surveys::{self, Answer, NewSurvey};
use crate::store::vehicles::NewVehicle;
use crate::store::{audit, customers, tickets, vehicles};
use axle_vin::Vin;

/// A small deterministic generator (64-bit LCG): the same demo every time.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with `percent` % probability.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
];
const GIVEN: [&str; 12] = [
    "伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰",
];

/// (category, weight, subject, description)
const ISSUES: [(&str, u64, &str, &str); 8] = [
    (
        "safety",
        4,
        "刹车异响 Brake noise",
        "踩刹车时有金属摩擦声。Metallic grinding when braking.",
    ),
    (
        "powertrain",
        14,
        "加速无力 Weak acceleration",
        "发动机故障灯亮，加速无力。Engine light on, weak acceleration.",
    ),
    (
        "electrical",
        14,
        "蓄电池亏电 Battery drains",
        "车辆停放一夜后无法启动。Car will not start after a night parked.",
    ),
    (
        "infotainment",
        16,
        "车机黑屏 Head unit black screen",
        "中控屏黑屏，CarPlay 无法连接。Head unit black, CarPlay fails.",
    ),
    (
        "ev-charging",
        14,
        "无法充电 Charging fails",
        "充电枪插上后无法开始充电。Charging does not start.",
    ),
    (
        "maintenance",
        20,
        "预约保养 Maintenance booking",
        "预约常规保养。Book a routine service.",
    ),
    (
        "warranty",
        10,
        "质保索赔 Warranty claim",
        "车门密封条漏水，申请质保。Door seal leaks, warranty claim.",
    ),
    (
        "recall",
        8,
        "召回咨询 Recall question",
        "收到召回通知，确认是否在范围内。Is my car in the recall?",
    ),
];

const MAKES: [(&str, &str, &str); 6] = [
    ("LSVAX4100", "SAIC Volkswagen", "Lavida"),
    ("LFV2A2150", "FAW-Volkswagen", "Sagitar"),
    ("LGXC76C00", "BYD", "Han EV"),
    ("LB37622Z0", "Geely", "Xingyue L"),
    ("LRW3E7FA0", "Tesla", "Model 3"),
    ("LGWEF4A50", "Great Wall", "Haval H6"),
];

const DAY_MS: i64 = 24 * 3_600_000;

/// How many customers and tickets the history adds.
const CUSTOMERS: usize = 80;
const TICKETS: usize = 720;

fn weighted<'a>(dice: &mut Dice) -> &'a (&'static str, u64, &'static str, &'static str) {
    let total: u64 = ISSUES.iter().map(|issue| issue.1).sum();
    let mut roll = dice.below(total);
    for issue in &ISSUES {
        if roll < issue.1 {
            return issue;
        }
        roll -= issue.1;
    }
    &ISSUES[0]
}

/// Adds the history to the demo tenant (whose org tree is already seeded).
pub async fn seed(core: &Core, tenant_id: &str) -> anyhow::Result<()> {
    let mut dice = Dice(20_261_126);
    let now = now_ms();
    for policy in crate::service::sla::demo_policies() {
        sla::put_policy(&core.db, tenant_id, &policy).await?;
    }
    // Stations that cover a city, by city name, and their teams' names.
    let stations = org::list_sites(
        &core.db,
        tenant_id,
        &SiteFilter {
            kind: Some(SiteKind::Station),
            ..Default::default()
        },
        &Page {
            limit: 200,
            cursor: None,
        },
    )
    .await?
    .items;
    let by_city: HashMap<String, String> = stations
        .iter()
        .flat_map(|site| {
            site.service_area
                .iter()
                .map(move |city| (city.clone(), site.id.clone()))
        })
        .collect();
    let cities: Vec<String> = by_city.keys().filter(|c| !c.is_ascii()).cloned().collect();

    let mut people = Vec::new();
    for n in 0..CUSTOMERS {
        let city = dice.pick(&cities).clone();
        let name = format!(
            "{}{}{}",
            dice.pick(&SURNAMES),
            dice.pick(&GIVEN),
            dice.pick(&GIVEN)
        );
        let customer = customers::insert(
            &core.db,
            tenant_id,
            NewCustomer {
                name,
                phone: Some(format!("+86137{:08}", 10_000_000 + n)),
                email: (n % 3 != 0).then(|| format!("owner{n}@example.cn")),
                city: Some(city.clone()),
                vip: n % 17 == 0,
                ..Default::default()
            },
        )
        .await?;
        let (stem, make, model) = *dice.pick(&MAKES);
        let vin = Vin::with_check_digit(&format!(
            "{stem}{}{:07}",
            ['N', 'P', 'R'][n % 3],
            300_000 + n
        ))
        .ok_or_else(|| anyhow::anyhow!("demo VIN for customer {n}"))?;
        let vehicle = vehicles::insert(
            &core.db,
            tenant_id,
            NewVehicle {
                plate: None,
                external_id: None,
                vin,
                customer_id: Some(customer.id.clone()),
                make: Some(make.to_owned()),
                model: Some(model.to_owned()),
                model_year: Some(2022 + (n % 3) as i64),
                mileage_km: Some(5_000 + 1_300 * n as i64),
                fields: Default::default(),
            },
        )
        .await?;
        people.push((customer, vehicle, by_city.get(&city).cloned()));
    }

    let span = 180 * DAY_MS;
    let mut tx = core.db.begin_write().await?;
    for n in 0..TICKETS {
        if n % 100 == 99 {
            tx.commit().await?;
            tx = core.db.begin_write().await?;
        }
        let created =
            now - span + (span / TICKETS as i64) * n as i64 + dice.below(3_600_000) as i64;
        let (customer, vehicle, site) = &people[dice.below(CUSTOMERS as u64) as usize];
        let (category, _, subject, description) = *weighted(&mut dice);
        let age_days = (now - created) / DAY_MS;
        let done = age_days > 5 && dice.chance(93);
        let status = match (done, age_days > 14) {
            (true, true) => TicketStatus::Closed,
            (true, false) => TicketStatus::Resolved,
            (false, _) => *dice.pick(&[
                TicketStatus::InProgress,
                TicketStatus::PendingCustomer,
                TicketStatus::Assigned,
            ]),
        };
        let priority = if category == "safety" {
            Priority::Critical
        } else {
            *dice.pick(&[
                Priority::Normal,
                Priority::Normal,
                Priority::High,
                Priority::Low,
            ])
        };
        let team = if matches!(category, "electrical" | "ev-charging" | "infotainment") {
            "电气组 Electrical"
        } else {
            "机电组 Mechanical"
        };
        let ticket = Ticket {
            id: new_id(),
            subject: subject.to_owned(),
            description: description.to_owned(),
            status,
            priority,
            category: category.to_owned(),
            channel: *dice.pick(&[
                TicketChannel::Phone,
                TicketChannel::Phone,
                TicketChannel::App,
                TicketChannel::Web,
                TicketChannel::Dealer,
                TicketChannel::Chat,
            ]),
            customer_id: Some(customer.id.clone()),
            vehicle_id: Some(vehicle.id.clone()),
            site_id: site.clone(),
            queue: (category == "safety").then(|| "safety".to_owned()),
            team: site.as_ref().map(|_| team.to_owned()),
            assignee: None,
            tags: Vec::new(),
            fields: Default::default(),
            created_at: rfc3339(created),
            updated_at: rfc3339(created),
        };
        tickets::insert(&mut tx, tenant_id, &ticket, created).await?;
        audit::record_event(
            &mut tx,
            tenant_id,
            &ticket.id,
            "ticket.created",
            "system",
            &serde_json::json!({ "seeded": true }),
        )
        .await?;

        let contact = |kind, direction, handle: Option<i64>, summary: &'static str, at: i64| {
            let id = new_id();
            (id, kind, direction, handle, summary, at)
        };
        let mut log = vec![contact(
            InteractionKind::Call,
            Direction::Inbound,
            Some(180 + dice.below(600) as i64),
            "Customer call",
            created,
        )];
        if dice.chance(35) {
            log.push(contact(
                InteractionKind::Call,
                Direction::Outbound,
                Some(120 + dice.below(420) as i64),
                "Follow-up call",
                created + 3_600_000,
            ));
        }
        if dice.chance(20) {
            log.push(contact(
                InteractionKind::Note,
                Direction::Internal,
                None,
                "Parts ordered",
                created + 7_200_000,
            ));
        }
        for (id, kind, direction, handle, summary, at) in &log {
            interactions::insert(
                &mut tx,
                tenant_id,
                &NewInteraction {
                    id,
                    ticket_id: &ticket.id,
                    kind: *kind,
                    direction: *direction,
                    handle_time_seconds: *handle,
                    summary,
                    body: None,
                    actor: "system",
                    occurred_ms: *at,
                    created_ms: *at,
                },
            )
            .await?;
        }

        if let Some(policy) = crate::service::sla::demo_policies()
            .into_iter()
            .find(|p| p.priority == priority)
        {
            for (kind, target, met_chance) in [
                (ClockKind::FirstResponse, policy.first_response_minutes, 90),
                (
                    ClockKind::Resolution,
                    policy.resolution_minutes,
                    if done { 82 } else { 60 },
                ),
            ] {
                let due = created + target * 60_000;
                sla::insert_clock(
                    &mut tx,
                    tenant_id,
                    &NewClock {
                        ticket_id: &ticket.id,
                        kind,
                        target_minutes: target,
                        started_at: created,
                        warn_at: Some(due),
                        due_at: Some(due),
                    },
                )
                .await?;
                let finished = kind == ClockKind::FirstResponse || done;
                if !finished && dice.chance(met_chance) {
                    // Still on time: due tomorrow, so the scheduler leaves it alone today.
                    sqlx::query("UPDATE sla_clocks SET warn_at = $1, due_at = $1 WHERE tenant_id = $2 AND ticket_id = $3 AND kind = $4")
                        .bind(now + DAY_MS)
                        .bind(tenant_id)
                        .bind(&ticket.id)
                        .bind(kind.as_str())
                        .execute(&mut *tx)
                        .await?;
                    continue;
                }
                let (met, breached) = match (finished, dice.chance(met_chance)) {
                    (true, true) => (Some(due - 60_000), None),
                    (true, false) => (Some(due + target * 30_000), Some(due)),
                    (false, _) => (None, Some(due)),
                };
                sqlx::query(
                    "UPDATE sla_clocks SET met_at = $1, breached_at = $2, warned_at = $3 \
                     WHERE tenant_id = $4 AND ticket_id = $5 AND kind = $6",
                )
                .bind(met)
                .bind(breached)
                .bind(breached)
                .bind(tenant_id)
                .bind(&ticket.id)
                .bind(kind.as_str())
                .execute(&mut *tx)
                .await?;
            }
        }

        if done {
            if dice.chance(6) {
                sqlx::query("UPDATE tickets SET reopened = 1 WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant_id)
                    .bind(&ticket.id)
                    .execute(&mut *tx)
                    .await?;
            }
            if dice.chance(65) {
                let survey_id = new_id();
                let resolved_at = created + DAY_MS;
                surveys::issue(
                    &mut tx,
                    tenant_id,
                    &NewSurvey {
                        id: &survey_id,
                        ticket_id: &ticket.id,
                        customer_id: Some(&customer.id),
                        token_hash: &crate::domain::ids::sha256_hex(survey_id.as_bytes()),
                        sent_via: Some(NotifyChannel::Sms),
                        issued_ms: resolved_at,
                        expires_ms: resolved_at + 30 * DAY_MS,
                    },
                )
                .await?;
                let csat = *dice.pick(&[5, 5, 5, 5, 4, 4, 4, 3, 2, 1]);
                let nps = *dice.pick(&[10, 10, 10, 9, 9, 8, 8, 7, 6, 4, 2]);
                surveys::answer(
                    &mut tx,
                    tenant_id,
                    &survey_id,
                    &Answer {
                        csat,
                        nps,
                        comment: None,
                    },
                    resolved_at + 3_600_000,
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}
