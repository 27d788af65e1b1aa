//! The `report-widget` world: declare a dataset and render it for a dashboard.

use crate::Error;
pub use crate::wit::{
    Cell, Chart, ChartKind, Dataset, DatasetQuery, Rendering, Series, Stat, Table,
    WidgetDescription,
};

/// A report widget. The host calls [`ReportWidget::describe`] once per load, computes the
/// dataset it asks for, and calls [`ReportWidget::render`] with it.
pub trait ReportWidget {
    /// The widget's title and the dataset it wants. Must not fail.
    fn describe() -> WidgetDescription;

    /// Renders `data`, the host's answer to the described query. `Error::InvalidInput` when
    /// the dataset lacks a column the widget needs.
    fn render(data: Dataset) -> Result<Rendering, Error>;
}

/// Exports `$ty`, which implements [`ReportWidget`], as this component's report widget.
/// Invoke it once, at the crate root: `axle_sdk::export!(MyWidget);`
#[macro_export]
macro_rules! export {
    ($ty:ident) => {
        const _: () = {
            impl $crate::__private::Guest for $ty {
                fn describe() -> $crate::widget::WidgetDescription {
                    <$ty as $crate::widget::ReportWidget>::describe()
                }

                fn render(
                    data: $crate::widget::Dataset,
                ) -> ::core::result::Result<$crate::widget::Rendering, $crate::Error> {
                    <$ty as $crate::widget::ReportWidget>::render(data)
                }
            }
        };
        $crate::__private::__export_world!($ty with_types_in $crate::__private);
    };
}
