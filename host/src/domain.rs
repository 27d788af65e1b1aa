//! Axle's records and the vocabulary they use, as the API shows them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Generates `as_str`, `parse` and the list of accepted spellings for a fieldless enum
/// stored as text.
macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and serialized spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the stored spelling.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The accepted spellings, for error messages.
            pub fn expected() -> String {
                [$($text),+].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// How urgent a ticket is; ordered from low to critical.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Critical,
}
text_enum!(Priority { Low => "low", Normal => "normal", High => "high", Critical => "critical" });

/// Where a ticket is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    New,
    Assigned,
    InProgress,
    PendingCustomer,
    Resolved,
    Closed,
}
text_enum!(TicketStatus {
    New => "new",
    Assigned => "assigned",
    InProgress => "in_progress",
    PendingCustomer => "pending_customer",
    Resolved => "resolved",
    Closed => "closed",
});

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

/// How a ticket came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketChannel {
    Phone,
    Email,
    Chat,
    Web,
    App,
    Dealer,
    Social,
}
text_enum!(TicketChannel {
    Phone => "phone",
    Email => "email",
    Chat => "chat",
    Web => "web",
    App => "app",
    Dealer => "dealer",
    Social => "social",
});

/// How a notification is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyChannel {
    Sms,
    Email,
    Webhook,
}
text_enum!(NotifyChannel { Sms => "sms", Email => "email", Webhook => "webhook" });

/// What an API key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages plugins, installations and keys, and everything an agent does.
    Admin,
    /// Works customers, vehicles and tickets.
    Agent,
}
text_enum!(Role { Admin => "admin", Agent => "agent" });

/// Custom field values by name, as JSON.
pub type Fields = BTreeMap<String, serde_json::Value>;

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

/// A customer.
#[derive(Clone, Debug, Serialize)]
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
    pub fields: Fields,
    pub created_at: String,
    pub updated_at: String,
}

/// A vehicle.
#[derive(Clone, Debug, Serialize)]
pub struct Vehicle {
    pub id: String,
    /// The vehicle's id in the dealer's sheet or DMS; unique within the tenant.
    pub external_id: Option<String>,
    pub vin: String,
    pub customer_id: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub model_year: Option<i64>,
    pub mileage_km: Option<i64>,
    pub fields: Fields,
    pub created_at: String,
    pub updated_at: String,
}

/// One visit of a vehicle to a workshop: the maintenance history.
#[derive(Clone, Debug, Serialize)]
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
    pub cost: Option<crate::money::Amount>,
    pub created_at: String,
    pub updated_at: String,
}

/// A service ticket.
#[derive(Clone, Debug, Serialize)]
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
    pub queue: Option<String>,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub tags: Vec<String>,
    pub fields: Fields,
    pub created_at: String,
    pub updated_at: String,
}

/// A notification waiting in (or delivered from) the outbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub channel: NotifyChannel,
    pub to: String,
    pub subject: Option<String>,
    pub body: String,
}

impl Notification {
    /// Checks that the recipient fits the channel.
    pub fn validate(&self) -> Result<(), String> {
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
            return Err(format!(
                "`{}` is not a valid {} recipient (sms: +8613800000000, email: name@host, webhook: https://…)",
                self.to, self.channel
            ));
        }
        if self.body.is_empty() {
            return Err("a notification needs a body".to_owned());
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
