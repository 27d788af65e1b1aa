//! The OpenAPI 3.1 document of the whole HTTP API, generated from the route table's
//! handlers, their `#[utoipa::path]` annotations and the types they take and return, and a
//! page that renders it.

use std::sync::LazyLock;

use axum::Json;
use axum::response::Html;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AdditionalProperties, AnyOfBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, Schema};
use utoipa::{Modify, OpenApi, ToResponse, ToSchema};

use super::error::ErrorBody;
use super::extract::ApiPath;

#[derive(OpenApi)]
#[openapi(
    info(title = "Axle", description = "After-sales service CRM: customers, vehicles, tickets, \
        the org tree, SLAs, reports, and the WebAssembly plugins that extend them. JSON under \
        `/api/v1`; authenticate with `Authorization: Bearer <api key>`."),
    servers((url = "/")),
    tags(
        (name = "tenants", description = "Tenants (platform admin) and their API keys."),
        (name = "plugin-policy", description = "A tenant's plugin quota, budget and alert address."),
        (name = "customers", description = "Customers and their custom fields."),
        (name = "field-definitions", description = "Custom fields declared per record type."),
        (name = "vehicles", description = "Vehicles by VIN and plate."),
        (name = "service-records", description = "A vehicle's maintenance history."),
        (name = "imports", description = "CSV imports of customers, vehicles and service records."),
        (name = "tickets", description = "Service tickets, hotline intake and timelines."),
        (name = "interactions", description = "Calls, emails, chats, visits and notes on a ticket."),
        (name = "surveys", description = "Satisfaction surveys: the customer's form and the agents' view."),
        (name = "notifications", description = "SMS, email and webhook notifications, and webhook signing."),
        (name = "plugins", description = "Uploaded plugin versions."),
        (name = "installations", description = "Installed plugins, tenant-wide or in a site's subtree: config, grants, upgrades, rollback, opt-outs, audit."),
        (name = "dealer-catalogue", description = "What the OEM lets dealers install in their own subtrees."),
        (name = "shadow", description = "Candidate versions in shadow or replay, compared with the installed one."),
        (name = "settings", description = "A tenant's settings."),
        (name = "org", description = "The org tree: sites (OEM, region, dealer, station), teams, agents."),
        (name = "sla", description = "SLA policies, holidays and a ticket's clocks."),
        (name = "campaigns", description = "Recall and service campaigns, and the 360° customer view."),
        (name = "dashboards", description = "Dashboards of report-widget plugins."),
        (name = "reports", description = "KPI reports and their drill-down."),
        (name = "knowledge-base", description = "Knowledge-base articles and their public pages."),
        (name = "operations", description = "Health and metrics for the platform operator."),
        (name = "docs", description = "This document and its browsable page."),
    ),
    components(schemas(ErrorBody), responses(
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        Gone,
        TooManyRequests,
        Unprocessable,
        Internal,
        Unavailable
    )),
)]
struct ApiDoc;

/// The document, built once: it depends only on the code. The paths come from the route
/// table (`super::documented`); what every operation has in common is added after.
static DOCUMENT: LazyLock<Document> = LazyLock::new(|| {
    let mut document = ApiDoc::openapi();
    document.merge(super::documented());
    let modifiers: [&dyn Modify; 5] = [
        &Security,
        &CommonErrors,
        &IdempotentPosts,
        &FlattenedStayOpen,
        &UntaggedAsAnyOf,
    ];
    for modifier in modifiers {
        modifier.modify(&mut document);
    }
    document
});

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi_document",
    tag = "docs",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)),
)]
pub async fn document() -> Json<&'static Document> {
    Json(&DOCUMENT)
}

/// A browsable page of the API, rendered from the OpenAPI document.
///
/// Swagger UI, served by this node with its assets (`/api/docs/…`): dealers on intranets
/// and behind corporate firewalls cannot count on a CDN.
#[utoipa::path(
    get,
    path = "/api/docs",
    operation_id = "openapi_docs_page",
    tag = "docs",
    responses((status = 200, description = "An HTML page", body = String, content_type = "text/html")),
)]
pub async fn docs_page() -> Html<&'static str> {
    Html(DOCS_PAGE)
}

/// A script or stylesheet of the docs page, from the Swagger UI distribution built into
/// the binary.
#[utoipa::path(
    get,
    path = "/api/docs/{file}",
    operation_id = "openapi_docs_asset",
    tag = "docs",
    params(("file" = String, Path, description = "The asset, e.g. `swagger-ui-bundle.js`")),
    responses(
        (status = 200, description = "The asset", body = String, content_type = "application/javascript"),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    ),
)]
pub async fn docs_asset(ApiPath(file): ApiPath<String>) -> axum::response::Response {
    use axum::response::IntoResponse;
    static CONFIG: LazyLock<std::sync::Arc<utoipa_swagger_ui::Config<'static>>> =
        LazyLock::new(|| {
            std::sync::Arc::new(utoipa_swagger_ui::Config::from("/api/v1/openapi.json"))
        });
    match utoipa_swagger_ui::serve(&file, CONFIG.clone()) {
        Ok(Some(asset)) if file != "index.html" => (
            [(axum::http::header::CONTENT_TYPE, asset.content_type)],
            asset.bytes.into_owned(),
        )
            .into_response(),
        _ => super::error::ApiError::NotFound("docs asset").into_response(),
    }
}

const DOCS_PAGE: &str = concat!(
    r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Axle API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script>
window.onload = () => {
  window.ui = SwaggerUIBundle({ url: ""##,
    "/api/v1/openapi.json",
    r##"", dom_id: "#swagger-ui" });
};
</script>
</body>
</html>
"##
);

/// The two bearer credentials: a tenant's API key, and the platform admin token.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            let mut http = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
            http.description = Some(description.to_owned());
            SecurityScheme::Http(http)
        };
        components.security_schemes.insert(
            "api_key".to_owned(),
            bearer(
                "A tenant's API key: `Authorization: Bearer <secret>`. Admin keys manage \
                 plugins, keys and settings; agent keys work customers, vehicles and tickets; \
                 a key scoped to a site sees only that site's subtree.",
            ),
        );
        components.security_schemes.insert(
            "metrics_token".to_owned(),
            bearer(
                "The Prometheus scrape token (`AXLE_METRICS_TOKEN`): \
                 `Authorization: Bearer <token>`.",
            ),
        );
        components.security_schemes.insert(
            "admin_token".to_owned(),
            bearer(
                "The platform operator's token (`AXLE_ADMIN_TOKEN`): \
                 `Authorization: Bearer <token>`.",
            ),
        );
    }
}

/// Every operation of `document`: the GET, PUT, POST, DELETE and PATCH of each path.
pub(super) fn operations_mut(
    document: &mut Document,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    document.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

/// Errors every operation of a kind can answer, so the handlers list only their own:
/// 401 wherever a credential is needed, 400 wherever a body, path or query string is
/// parsed, and 500/503 wherever the database is read (every operation but the docs).
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut Document) {
        for operation in operations_mut(openapi) {
            let docs = operation
                .tags
                .as_ref()
                .is_some_and(|tags| tags.iter().any(|tag| tag == "docs"));
            if docs {
                continue;
            }
            let mut common = Vec::new();
            let parses_input = operation.request_body.is_some()
                || operation
                    .parameters
                    .as_ref()
                    .is_some_and(|params| !params.is_empty());
            if parses_input {
                common.push(("400", BadRequest::response().0));
            }
            if operation.security.is_some() {
                common.push(("401", Unauthorized::response().0));
            }
            common.push(("500", Internal::response().0));
            common.push(("503", Unavailable::response().0));
            for (status, name) in common {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
            }
        }
    }
}

/// Every keyed JSON POST takes an optional `Idempotency-Key` (`http::idempotency`): a
/// retry with the same key and body gets the first reply back.
struct IdempotentPosts;

impl Modify for IdempotentPosts {
    fn modify(&self, openapi: &mut Document) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{Required, header::HeaderBuilder};
        for operation in openapi
            .paths
            .paths
            .values_mut()
            .filter_map(|item| item.post.as_mut())
        {
            let keyed = operation.security.as_ref().is_some_and(|requirements| {
                serde_json::to_string(requirements).is_ok_and(|text| text.contains("api_key"))
            });
            let streamed = operation.request_body.as_ref().is_some_and(|body| {
                body.content
                    .keys()
                    .any(|kind| kind.starts_with("multipart/") || kind.starts_with("text/csv"))
            });
            if !keyed || streamed {
                continue;
            }
            let key = ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Makes a retry safe: the first reply to this key (1-255 visible ASCII \
                     characters, a UUID is good) is kept for 24 hours per API key, and a retry \
                     with the same key, route and body gets it back with \
                     `Idempotent-Replayed: true` instead of running again. The same key with \
                     another request is a 422; a retry while the first still runs is a 409. \
                     Error replies are not kept.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(crate::service::idempotency::MAX_KEY_CHARS)),
                ))
                .build();
            operation.parameters.get_or_insert_with(Vec::new).push(key);
            for (status, name) in [
                ("409", Conflict::response().0),
                ("422", Unprocessable::response().0),
            ] {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
            }
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response.headers.insert(
                        "Idempotent-Replayed".to_owned(),
                        HeaderBuilder::new()
                            .schema(ObjectBuilder::new().schema_type(Type::String))
                            .description(Some("`true` on a reply kept from the first request with this Idempotency-Key."))
                            .build(),
                    );
                }
            }
        }
    }
}

/// A type that rejects unknown fields (`deny_unknown_fields`: `additionalProperties:
/// false`) but is also `#[serde(flatten)]`ed into a reply (`PluginPolicy` in `PolicyView`)
/// is composed with `allOf`, where a closed schema would reject the reply's other fields:
/// such schemas are left open.
struct FlattenedStayOpen;

impl Modify for FlattenedStayOpen {
    fn modify(&self, openapi: &mut Document) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let flattened: Vec<String> = components
            .schemas
            .values()
            .filter_map(|schema| match schema {
                RefOr::T(Schema::AllOf(all_of)) => Some(&all_of.items),
                _ => None,
            })
            .flatten()
            .filter_map(|part| match part {
                RefOr::Ref(reference) => reference
                    .ref_location
                    .strip_prefix("#/components/schemas/")
                    .map(str::to_owned),
                RefOr::T(_) => None,
            })
            .collect();
        for name in flattened {
            if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(&name)
                && matches!(
                    object.additional_properties.as_deref(),
                    Some(AdditionalProperties::FreeForm(false))
                )
            {
                object.additional_properties = None;
            }
        }
    }
}

/// utoipa documents an enum with data as `oneOf`, which fails a value that fits two
/// variants. Ours are `#[serde(untagged)]` (the knowledge base's articles-or-hits page),
/// whose variants overlap — a search hit is also an article — and serde takes the first
/// that fits: `anyOf` says that.
struct UntaggedAsAnyOf;

impl Modify for UntaggedAsAnyOf {
    fn modify(&self, openapi: &mut Document) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for schema in components.schemas.values_mut() {
            if let RefOr::T(Schema::OneOf(one_of)) = schema {
                let any_of = one_of
                    .items
                    .drain(..)
                    .fold(AnyOfBuilder::new(), AnyOfBuilder::item)
                    .description(one_of.description.take())
                    .build();
                *schema = RefOr::T(Schema::AnyOf(any_of));
            }
        }
    }
}

/// An error reply with the one `ApiError` body.
fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(Ref::from_schema_name(ErrorBody::name()))))
                .build(),
        )
        .build()
        .into()
}

/// Declares a reusable error response, named for its component.
macro_rules! error_responses {
    ($($name:ident => $description:literal,)+) => {$(
        #[doc = $description]
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), error_response($description))
            }
        }
    )+};
}

error_responses! {
    BadRequest => "The body, path or query string is malformed (`bad_request`), or an \
        uploaded component is not a valid plugin (`invalid_component`).",
    Unauthorized => "No credential, or an unknown or revoked one (`unauthorized`).",
    Forbidden => "The credential may not do this: an agent key where an admin key is \
        needed, or a site-scoped key where a tenant-wide one is (`forbidden`).",
    NotFound => "No such record in the caller's tenant, or not visible to a site-scoped \
        key (`not_found`).",
    Conflict => "The request clashes with the current state: a duplicate, or a change the \
        record's state does not allow (`conflict`, `illegal_transition`).",
    Gone => "The link has expired (`gone`).",
    TooManyRequests => "The tenant is over a rate limit; `Retry-After` says how many \
        seconds to wait (`rate_limited`).",
    Unprocessable => "Fields failed validation; `details` lists each one \
        (`validation_failed`).",
    Internal => "A server fault; the server log has the details (`internal`).",
    Unavailable => "The database is unreachable right now; try again shortly \
        (`database_unavailable`).",
}
