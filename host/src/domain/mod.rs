//! Axle's vocabulary: the records the API shows and the value types they are made of.
//! Every other room may use it; it uses none of them, so a type here can travel from a
//! handler through the service into a row and back without an arrow pointing backwards.

/// Gives a fieldless enum that is stored and shown as text the methods the rest of Axle
/// calls: `as_str`, `parse`, `ALL`, `expected` and `Display`. The spelling comes from
/// strum's derives (`IntoStaticStr`, `EnumString`, `VariantArray`). Written around the
/// whole enum (`text_enum! { pub enum Priority spelled "snake_case" { … } }`), the macro
/// adds those derives and serde's with one spelling rule for both; `text_enum!(Name)` only
/// adds the methods to an enum that spells each variant itself (`WitVersion`). A test
/// holds serde's and strum's spellings together either way.
macro_rules! text_enum {
    // An enum written whole: the derives every text enum has, and one spelling rule
    // (`"snake_case"`, `"kebab-case"`) that serde and strum both follow, so the stored,
    // serialized and parsed spellings cannot drift apart. Extra derives and docs go on
    // top as usual. `$case` is a `tt`, not a `literal`: a `literal` fragment reaches
    // derive macros wrapped in an invisible group, and utoipa's derive then ignores the
    // `rename_all` (the OpenAPI enums came out as `Agent`, not `agent`).
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident spelled $case:tt {
            $($(#[$variant_meta:meta])* $variant:ident),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone,
            Copy,
            Debug,
            PartialEq,
            Eq,
            serde::Serialize,
            serde::Deserialize,
            strum::IntoStaticStr,
            strum::EnumString,
            strum::VariantArray,
        )]
        #[serde(rename_all = $case)]
        #[strum(serialize_all = $case)]
        $vis enum $name {
            $($(#[$variant_meta])* $variant),*
        }
        $crate::domain::text_enum!($name);
    };
    ($name:ident) => {
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = <$name as strum::VariantArray>::VARIANTS;

            /// The stored and serialized spelling.
            pub fn as_str(self) -> &'static str {
                self.into()
            }

            /// Parses the stored spelling.
            pub fn parse(text: &str) -> Option<Self> {
                text.parse().ok()
            }

            /// The accepted spellings, for error messages.
            pub fn expected() -> String {
                Self::ALL
                    .iter()
                    .map(|value| value.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

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

#[cfg(test)]
mod tests {
    use serde::Serialize;

    use super::campaigns::CampaignKind;
    use super::installations::InstallationStatus;
    use super::knowledge_base::ArticleStatus;
    use super::org::{AgentRole, SiteKind};
    use super::plugin::{Capability, Source, WitVersion, World};
    use super::records::{
        Direction, FieldEntity, FieldKind, InteractionKind, NotifyChannel, Priority, Role,
        TicketChannel, TicketStatus,
    };
    use super::sla::ClockKind;

    /// Every value is written the same way in JSON and in the database, and reads back.
    fn spelled_alike<T>(values: &[T], as_str: fn(T) -> &'static str, parse: fn(&str) -> Option<T>)
    where
        T: Copy + PartialEq + std::fmt::Debug + Serialize,
    {
        assert!(!values.is_empty());
        for &value in values {
            let text = as_str(value);
            assert_eq!(
                serde_json::to_value(value).unwrap(),
                serde_json::Value::String(text.to_owned()),
                "{value:?}: serde and strum spell it differently"
            );
            assert_eq!(
                parse(text),
                Some(value),
                "{value:?} does not read back from `{text}`"
            );
        }
    }

    #[test]
    fn text_enums_are_spelled_the_same_by_serde_and_strum() {
        spelled_alike(CampaignKind::ALL, CampaignKind::as_str, CampaignKind::parse);
        spelled_alike(
            InstallationStatus::ALL,
            InstallationStatus::as_str,
            InstallationStatus::parse,
        );
        spelled_alike(
            ArticleStatus::ALL,
            ArticleStatus::as_str,
            ArticleStatus::parse,
        );
        spelled_alike(AgentRole::ALL, AgentRole::as_str, AgentRole::parse);
        spelled_alike(SiteKind::ALL, SiteKind::as_str, SiteKind::parse);
        spelled_alike(Capability::ALL, Capability::as_str, Capability::parse);
        spelled_alike(Source::ALL, Source::as_str, Source::parse);
        spelled_alike(WitVersion::ALL, WitVersion::as_str, WitVersion::parse);
        spelled_alike(World::ALL, World::as_str, World::parse);
        spelled_alike(Direction::ALL, Direction::as_str, Direction::parse);
        spelled_alike(FieldEntity::ALL, FieldEntity::as_str, FieldEntity::parse);
        spelled_alike(FieldKind::ALL, FieldKind::as_str, FieldKind::parse);
        spelled_alike(
            InteractionKind::ALL,
            InteractionKind::as_str,
            InteractionKind::parse,
        );
        spelled_alike(
            NotifyChannel::ALL,
            NotifyChannel::as_str,
            NotifyChannel::parse,
        );
        spelled_alike(Priority::ALL, Priority::as_str, Priority::parse);
        spelled_alike(Role::ALL, Role::as_str, Role::parse);
        spelled_alike(
            TicketChannel::ALL,
            TicketChannel::as_str,
            TicketChannel::parse,
        );
        spelled_alike(TicketStatus::ALL, TicketStatus::as_str, TicketStatus::parse);
        spelled_alike(ClockKind::ALL, ClockKind::as_str, ClockKind::parse);
    }

    #[test]
    fn a_spelling_that_is_not_a_value_is_refused_and_the_message_lists_them_all() {
        assert_eq!(Priority::parse("urgent"), None);
        assert_eq!(Priority::parse("Critical"), None, "spellings are exact");
        assert_eq!(Priority::expected(), "low, normal, high, critical");
        assert_eq!(WitVersion::parse("0.3.0"), None);
        assert_eq!(
            World::expected(),
            "routing-rule, workflow-step, field-provider, report-widget"
        );
    }
}
