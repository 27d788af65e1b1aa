//! Axle's vocabulary: the records the API shows and the value types they are made of.
//! Every other room may use it; it uses none of them, so a type here can travel from a
//! handler through the service into a row and back without an arrow pointing backwards.

pub mod audit;
pub mod calendar;
pub mod campaigns;
pub mod dashboards;
pub mod field_definitions;
pub mod hours;
pub mod ids;
pub mod installations;
pub mod knowledge_base;
pub mod money;
pub mod notifications;
pub mod org;
pub mod page;
pub mod phone;
pub mod plate;
pub mod plugin;
pub mod records;
pub mod reports;
pub mod sla;
pub mod tenants;
pub mod text_search;
pub mod vin;
