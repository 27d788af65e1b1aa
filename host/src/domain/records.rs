//! Axle's records and the vocabulary they use, as the API shows them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

crate::domain::text_enum! {
    /// How urgent a ticket is; ordered from low to critical.
    #[derive(PartialOrd, Ord, Hash, utoipa::ToSchema)]
    pub enum Priority spelled "snake_case" {
        Low,
        Normal,
        High,
        Critical,
    }
}

crate::domain::text_enum! {
    /// Where a ticket is in its lifecycle.
    #[derive(Hash, utoipa::ToSchema)]
    pub enum TicketStatus spelled "snake_case" {
        New,
        Assigned,
        InProgress,
        PendingCustomer,
        Resolved,
        Closed,
    }
}

impl TicketStatus {
    /// The states a ticket may move to from this one. `resolved` and `closed` reopen to
    /// `in_progress`.
    pub fn next(self) -> &'static [TicketStatus] {
        use TicketStatus::*;
        match self {
            New => &[Assigned, InProgress, PendingCustomer, Resolved, Closed],
            Assigned => &[InProgress, PendingCustomer, Resolved, Closed],
            InProgress => &[Assigned, PendingCustomer, Resolved, Closed],
            PendingCustomer => &[InProgress, Resolved, Closed],
            Resolved => &[Closed, InProgress],
            Closed => &[InProgress],
        }
    }

    /// Whether moving from `self` to `to` is allowed.
    pub fn can_move_to(self, to: TicketStatus) -> bool {
        self.next().contains(&to)
    }

    /// Whether the ticket still needs work.
    pub fn is_open(self) -> bool {
        !matches!(self, TicketStatus::Resolved | TicketStatus::Closed)
    }
}

crate::domain::text_enum! {
    /// How a ticket came in.
    #[derive(utoipa::ToSchema)]
    pub enum TicketChannel spelled "snake_case" {
        Phone,
        Email,
        Chat,
        Web,
        App,
        Dealer,
        Social,
    }
}

crate::domain::text_enum! {
    /// How a notification is delivered.
    #[derive(utoipa::ToSchema)]
    pub enum NotifyChannel spelled "snake_case" {
        Sms,
        Email,
        Webhook,
    }
}

crate::domain::text_enum! {
    /// What an API key may do.
    #[derive(utoipa::ToSchema)]
    pub enum Role spelled "snake_case" {
        /// Manages plugins, installations and keys, and everything an agent does.
        Admin,
        /// Works customers, vehicles and tickets.
        Agent,
    }
}

/// Custom field values by name, as JSON.
pub type Fields = BTreeMap<String, serde_json::Value>;

crate::domain::text_enum! {
    /// The kind of record a custom field is declared on.
    #[derive(utoipa::ToSchema)]
    pub enum FieldEntity spelled "snake_case" {
        Customer,
        Vehicle,
        Ticket,
    }
}

crate::domain::text_enum! {
    /// The type of a declared custom field's value; the same set as the WIT `field-kind`.
    #[derive(utoipa::ToSchema)]
    pub enum FieldKind spelled "snake_case" {
        Text,
        Number,
        Integer,
        Boolean,
        /// A calendar day, `YYYY-MM-DD`.
        Date,
        /// One of the definition's options.
        Choice,
    }
}

/// Merges `change` over `fields`: a value sets the field, `null` removes it.
pub fn merge_fields(fields: &mut Fields, change: Fields) {
    for (name, value) in change {
        if value.is_null() {
            fields.remove(&name);
        } else {
            fields.insert(name, value);
        }
    }
}

crate::domain::text_enum! {
    /// What kind of contact or work an interaction records.
    #[derive(utoipa::ToSchema)]
    pub enum InteractionKind spelled "snake_case" {
        Call,
        Email,
        Chat,
        Visit,
        Note,
    }
}

impl InteractionKind {
    /// Whether the agent's time on it must be logged: calls, chats and visits are
    /// what AHT averages over.
    pub fn needs_handle_time(self) -> bool {
        matches!(
            self,
            InteractionKind::Call | InteractionKind::Chat | InteractionKind::Visit
        )
    }
}

crate::domain::text_enum! {
    /// Who started an interaction: the customer, the desk, or nobody outside it.
    #[derive(utoipa::ToSchema)]
    pub enum Direction spelled "snake_case" {
        Inbound,
        Outbound,
        Internal,
    }
}

/// A customer.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Customer {
    pub id: String,
    /// The customer's id in the dealer's sheet or DMS; unique within the tenant.
    pub external_id: Option<String>,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub vip: bool,
    #[schema(value_type = BTreeMap<String, Value>)]
    pub fields: Fields,
    pub created_at: String,
    pub updated_at: String,
}

impl Customer {
    /// Where to reach the customer: email when known, else SMS, else nowhere.
    pub fn contact(&self) -> Option<(NotifyChannel, String)> {
        match (&self.email, &self.phone) {
            (Some(email), _) => Some((NotifyChannel::Email, email.clone())),
            (None, Some(phone)) => Some((NotifyChannel::Sms, phone.clone())),
            (None, None) => None,
        }
    }
}

/// A vehicle.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Vehicle {
    pub id: String,
    /// The vehicle's id in the dealer's sheet or DMS; unique within the tenant.
    pub external_id: Option<String>,
    pub vin: String,
    /// The licence plate, normalised (`沪A12345`); not unique, plates move between cars.
    pub plate: Option<String>,
    pub customer_id: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub model_year: Option<i64>,
    pub mileage_km: Option<i64>,
    #[schema(value_type = BTreeMap<String, Value>)]
    pub fields: Fields,
    pub created_at: String,
    pub updated_at: String,
}

/// One visit of a vehicle to a workshop: the maintenance history.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceRecord {
    pub id: String,
    pub vehicle_id: String,
    /// The record's id in the dealer's DMS; unique within the tenant.
    pub external_id: Option<String>,
    /// The day of the visit, `YYYY-MM-DD`.
    pub service_date: String,
    pub mileage_km: i64,
    pub work_done: String,
    /// The dealer or service station that did the work, as the DMS names it.
    pub dealer_code: String,
    /// What the visit cost, as a decimal string (`"1280.50"`).
    #[schema(value_type = Option<String>)]
    pub cost: Option<crate::domain::money::Amount>,
    pub created_at: String,
    pub updated_at: String,
}

/// A service ticket.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Ticket {
    pub id: String,
    pub subject: String,
    pub description: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub category: String,
    pub channel: TicketChannel,
    pub customer_id: Option<String>,
    pub vehicle_id: Option<String>,
    /// The service site handling the ticket.
    pub site_id: Option<String>,
    pub queue: Option<String>,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub tags: Vec<String>,
    #[schema(value_type = BTreeMap<String, Value>)]
    pub fields: Fields,
    pub created_at: String,
    pub updated_at: String,
}

/// A contact with the customer, or an internal note, logged on a ticket.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Interaction {
    pub id: String,
    pub ticket_id: String,
    pub kind: InteractionKind,
    pub direction: Direction,
    /// The agent's time on it; set for calls, chats and visits.
    pub handle_time_seconds: Option<i64>,
    pub summary: String,
    pub body: Option<String>,
    /// The key that logged it (`key:<id>`).
    pub actor: String,
    pub occurred_at: String,
    pub created_at: String,
}

/// A satisfaction survey issued when a ticket was resolved, and its answer once given.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Survey {
    pub id: String,
    pub ticket_id: String,
    pub customer_id: Option<String>,
    /// How the link went out; `None` when the customer had no email or phone.
    pub sent_via: Option<NotifyChannel>,
    pub issued_at: String,
    pub expires_at: String,
    pub answered_at: Option<String>,
    /// Customer satisfaction, 1–5.
    pub csat: Option<i64>,
    /// Likelihood to recommend, 0–10.
    pub nps: Option<i64>,
    pub comment: Option<String>,
}

/// A notification waiting in (or delivered from) the outbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub channel: NotifyChannel,
    pub to: String,
    pub subject: Option<String>,
    pub body: String,
}

/// Why a notification cannot be queued, naming the field at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidNotification {
    /// `to` or `body`.
    pub field: &'static str,
    pub message: String,
}

impl Notification {
    /// Checks that the recipient fits the channel and that there is a body.
    pub fn validate(&self) -> Result<(), InvalidNotification> {
        let to = self.to.trim();
        let ok = match self.channel {
            NotifyChannel::Sms => {
                let digits = to.strip_prefix('+').unwrap_or(to);
                (6..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
            }
            NotifyChannel::Email => to
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.')),
            NotifyChannel::Webhook => to.starts_with("https://") || to.starts_with("http://"),
        };
        if !ok {
            return Err(InvalidNotification {
                field: "to",
                message: format!(
                    "`{}` is not a valid {} recipient (sms: +8613800000000, email: name@host, webhook: https://…)",
                    self.to, self.channel
                ),
            });
        }
        if self.body.is_empty() {
            return Err(InvalidNotification {
                field: "body",
                message: "a notification needs a body".to_owned(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_order_from_low_to_critical() {
        assert!(Priority::Critical > Priority::High);
        assert!(Priority::High > Priority::Normal);
        assert!(Priority::Normal > Priority::Low);
    }

    #[test]
    fn resolved_tickets_reopen_but_never_go_back_to_new() {
        assert!(TicketStatus::Resolved.can_move_to(TicketStatus::InProgress));
        assert!(!TicketStatus::Resolved.can_move_to(TicketStatus::New));
        assert!(!TicketStatus::Closed.can_move_to(TicketStatus::Resolved));
    }

    #[test]
    fn sms_recipients_must_be_phone_numbers() {
        let sms = |to: &str| Notification {
            channel: NotifyChannel::Sms,
            to: to.to_owned(),
            subject: None,
            body: "hi".to_owned(),
        };
        assert!(sms("+8613800000000").validate().is_ok());
        assert!(sms("not a phone").validate().is_err());
    }
}

/// Which tickets a list covers.
#[derive(Clone, Debug, Default)]
pub struct TicketFilter {
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    pub category: Option<String>,
    pub channel: Option<TicketChannel>,
    pub queue: Option<String>,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub customer_id: Option<String>,
    pub vehicle_id: Option<String>,
    pub site_id: Option<String>,
    /// Only tickets at sites in the subtree with this path prefix.
    pub site_within: Option<String>,
}
