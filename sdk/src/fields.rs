//! The `field-provider` world: declare, compute and validate custom fields.

pub use crate::wit::{Entity, FieldDef, FieldIssue, FieldKind, Subject};
use crate::{CustomField, Error};

/// A field provider. The host calls [`FieldProvider::describe`] once per load, then
/// [`FieldProvider::compute`] and [`FieldProvider::validate`] for each record it saves.
pub trait FieldProvider {
    /// The fields this provider owns. Must not fail.
    fn describe() -> Vec<FieldDef>;

    /// Computes field values for `subject`. `Error::InvalidInput` when the record lacks what
    /// the computation needs; the host then leaves the fields unset. Computes nothing unless
    /// overridden.
    fn compute(subject: Subject) -> Result<Vec<CustomField>, Error> {
        let _ = subject;
        Ok(Vec::new())
    }

    /// Checks `subject`; an empty list means valid. The host answers a save with issues with a
    /// 422, one error per field. Accepts everything unless overridden.
    fn validate(subject: Subject) -> Result<Vec<FieldIssue>, Error> {
        let _ = subject;
        Ok(Vec::new())
    }
}

/// Exports `$ty`, which implements [`FieldProvider`], as this component's field provider.
/// Invoke it once, at the crate root: `axle_sdk::export!(MyFields);`
#[macro_export]
macro_rules! export {
    ($ty:ident) => {
        const _: () = {
            impl $crate::__private::Guest for $ty {
                fn describe() -> ::std::vec::Vec<$crate::fields::FieldDef> {
                    <$ty as $crate::fields::FieldProvider>::describe()
                }

                fn compute(
                    subject: $crate::fields::Subject,
                ) -> ::core::result::Result<::std::vec::Vec<$crate::CustomField>, $crate::Error>
                {
                    <$ty as $crate::fields::FieldProvider>::compute(subject)
                }

                fn validate(
                    subject: $crate::fields::Subject,
                ) -> ::core::result::Result<
                    ::std::vec::Vec<$crate::fields::FieldIssue>,
                    $crate::Error,
                > {
                    <$ty as $crate::fields::FieldProvider>::validate(subject)
                }
            }
        };
        $crate::__private::__export_world!($ty with_types_in $crate::__private);
    };
}
