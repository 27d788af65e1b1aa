//! Axle's records in their WIT shape and back.

use super::wit::types;
use crate::domain::knowledge_base::Hit;
use crate::domain::records::{Customer, Fields, Priority, Ticket, TicketStatus, Vehicle};
use crate::store::tickets::TicketSummary;

/// Custom fields as WIT field values. JSON strings become text, integers integer,
/// other numbers number, booleans boolean; anything else travels as its JSON text.
pub fn fields(fields: &Fields) -> Vec<types::CustomField> {
    fields
        .iter()
        .map(|(name, value)| types::CustomField {
            name: name.clone(),
            value: field_value(value),
        })
        .collect()
}

fn field_value(value: &serde_json::Value) -> types::FieldValue {
    match value {
        serde_json::Value::String(text) => types::FieldValue::Text(text.clone()),
        serde_json::Value::Bool(flag) => types::FieldValue::Boolean(*flag),
        serde_json::Value::Number(number) => match number.as_i64() {
            Some(int) => types::FieldValue::Integer(int),
            None => types::FieldValue::Number(number.as_f64().unwrap_or(0.0)),
        },
        other => types::FieldValue::Text(other.to_string()),
    }
}

/// A WIT field value as JSON.
pub fn field_json(value: &types::FieldValue) -> serde_json::Value {
    match value {
        types::FieldValue::Text(text)
        | types::FieldValue::Date(text)
        | types::FieldValue::Choice(text) => serde_json::Value::String(text.clone()),
        types::FieldValue::Number(number) => serde_json::json!(number),
        types::FieldValue::Integer(int) => serde_json::json!(int),
        types::FieldValue::Boolean(flag) => serde_json::json!(flag),
    }
}

/// A customer in WIT form.
pub fn customer(customer: &Customer) -> types::Customer {
    types::Customer {
        id: customer.id.clone(),
        name: customer.name.clone(),
        phone: customer.phone.clone(),
        email: customer.email.clone(),
        region: customer.region.clone(),
        city: customer.city.clone(),
        vip: customer.vip,
        fields: fields(&customer.fields),
    }
}

/// A vehicle in WIT form.
pub fn vehicle(vehicle: &Vehicle) -> types::Vehicle {
    types::Vehicle {
        id: vehicle.id.clone(),
        vin: vehicle.vin.clone(),
        make: vehicle.make.clone(),
        model: vehicle.model.clone(),
        model_year: vehicle.model_year.and_then(|year| u16::try_from(year).ok()),
        mileage_km: vehicle.mileage_km.and_then(|km| u32::try_from(km).ok()),
        customer_id: vehicle.customer_id.clone(),
        fields: fields(&vehicle.fields),
    }
}

/// A ticket with its customer and vehicle in WIT form.
pub fn ticket(
    ticket: &Ticket,
    customer_record: Option<&Customer>,
    vehicle_record: Option<&Vehicle>,
) -> types::Ticket {
    types::Ticket {
        id: ticket.id.clone(),
        subject: ticket.subject.clone(),
        description: ticket.description.clone(),
        status: status(ticket.status),
        priority: priority(ticket.priority),
        category: ticket.category.clone(),
        channel: ticket.channel.as_str().to_owned(),
        customer: customer_record.map(customer),
        vehicle: vehicle_record.map(vehicle),
        queue: ticket.queue.clone(),
        team: ticket.team.clone(),
        assignee: ticket.assignee.clone(),
        tags: ticket.tags.clone(),
        fields: fields(&ticket.fields),
        created_at: ticket.created_at.clone(),
        updated_at: ticket.updated_at.clone(),
    }
}

/// A ticket summary in WIT form.
pub fn ticket_summary(summary: &TicketSummary) -> types::TicketSummary {
    types::TicketSummary {
        id: summary.id.clone(),
        subject: summary.subject.clone(),
        status: status(summary.status),
        priority: priority(summary.priority),
        category: summary.category.clone(),
        created_at: summary.created_at.clone(),
    }
}

/// A knowledge-base search hit in WIT form.
pub fn article(hit: &Hit) -> types::Article {
    let article = &hit.article.article;
    types::Article {
        id: article.id.clone(),
        title: article.title.clone(),
        excerpt: hit.excerpt.clone(),
        url: hit.article.url.clone(),
        category: article.category.clone(),
        tags: article.tags.clone(),
    }
}

/// Priority to WIT.
pub fn priority(priority: Priority) -> types::Priority {
    match priority {
        Priority::Low => types::Priority::Low,
        Priority::Normal => types::Priority::Normal,
        Priority::High => types::Priority::High,
        Priority::Critical => types::Priority::Critical,
    }
}

/// Priority from WIT.
pub fn priority_from(priority: types::Priority) -> Priority {
    match priority {
        types::Priority::Low => Priority::Low,
        types::Priority::Normal => Priority::Normal,
        types::Priority::High => Priority::High,
        types::Priority::Critical => Priority::Critical,
    }
}

/// Status to WIT.
pub fn status(status: TicketStatus) -> types::TicketStatus {
    match status {
        TicketStatus::New => types::TicketStatus::New,
        TicketStatus::Assigned => types::TicketStatus::Assigned,
        TicketStatus::InProgress => types::TicketStatus::InProgress,
        TicketStatus::PendingCustomer => types::TicketStatus::PendingCustomer,
        TicketStatus::Resolved => types::TicketStatus::Resolved,
        TicketStatus::Closed => types::TicketStatus::Closed,
    }
}

/// Status from WIT.
pub fn status_from(status: types::TicketStatus) -> TicketStatus {
    match status {
        types::TicketStatus::New => TicketStatus::New,
        types::TicketStatus::Assigned => TicketStatus::Assigned,
        types::TicketStatus::InProgress => TicketStatus::InProgress,
        types::TicketStatus::PendingCustomer => TicketStatus::PendingCustomer,
        types::TicketStatus::Resolved => TicketStatus::Resolved,
        types::TicketStatus::Closed => TicketStatus::Closed,
    }
}

/// The WIT error as one line of text.
pub fn error_text(error: &types::Error) -> String {
    match error {
        types::Error::InvalidInput(text) => format!("invalid-input: {text}"),
        types::Error::NotFound(text) => format!("not-found: {text}"),
        types::Error::Denied(text) => format!("denied: {text}"),
        types::Error::LimitExceeded(text) => format!("limit-exceeded: {text}"),
        types::Error::Unavailable(text) => format!("unavailable: {text}"),
        types::Error::Other(text) => format!("other: {text}"),
    }
}
