//! Every route, once: method, path, the permission it needs and its handler. The router,
//! the permission check and the OpenAPI document's `x-bulwark-permission` come from here.

use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, post, put};
use bulwark_api::Permission;

use crate::{AppState, admin, images, ops, policies, promotions, scans, secrets};

/// One route of the API.
#[derive(Debug)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub permission: Permission,
    pub handler: MethodRouter<AppState>,
}

fn route(method: Method, path: &'static str, permission: Permission, handler: MethodRouter<AppState>) -> Route {
    Route { method, path, permission, handler }
}

/// The table. A route missing here is missing from the server; a route of the OpenAPI
/// document missing here fails `openapi::document` (and its test).
pub fn table() -> Vec<Route> {
    use Permission as P;
    vec![
        route(Method::GET, "/healthz", P::Public, get(ops::healthz)),
        route(Method::GET, "/readyz", P::Public, get(ops::readyz)),
        route(Method::GET, "/metrics", P::Public, get(ops::metrics)),
        route(Method::GET, "/api/v1/openapi.json", P::Public, get(ops::openapi_json)),
        route(Method::GET, "/api/v1/docs", P::Public, get(ops::docs)),
        route(Method::POST, "/api/v1/scans", P::Submit, post(scans::create)),
        route(Method::GET, "/api/v1/scans/{id}", P::Read, get(scans::get)),
        route(Method::GET, "/api/v1/scans/{id}/events", P::Read, get(scans::events)),
        route(Method::POST, "/api/v1/scans/{id}/cancel", P::Submit, post(scans::cancel)),
        route(Method::GET, "/api/v1/scans/{id}/report", P::Read, get(scans::report)),
        route(Method::POST, "/api/v1/reports", P::Submit, post(scans::upload)),
        route(Method::GET, "/api/v1/images", P::Read, get(images::list)),
        route(Method::GET, "/api/v1/images/{digest}", P::Read, get(images::get)),
        route(Method::GET, "/api/v1/vulnerabilities/{id}/images", P::Read, get(images::affected)),
        route(Method::GET, "/api/v1/packages", P::Read, get(images::packages)),
        route(Method::GET, "/api/v1/policies", P::Read, get(policies::list)),
        route(Method::GET, "/api/v1/policies/{name}", P::Read, get(policies::get)),
        route(Method::PUT, "/api/v1/policies/{name}", P::ManagePolicies, put(policies::put)),
        route(Method::GET, "/api/v1/policies/{name}/versions", P::Read, get(policies::versions)),
        route(Method::POST, "/api/v1/policies/{name}/evaluate", P::ManagePolicies, post(policies::dry_run)),
        route(Method::POST, "/api/v1/exceptions", P::Submit, post(policies::request)),
        route(Method::GET, "/api/v1/exceptions", P::Read, get(policies::list_exceptions)),
        route(Method::GET, "/api/v1/exceptions/{id}", P::Read, get(policies::get_exception)),
        route(Method::POST, "/api/v1/exceptions/{id}/approve", P::ApproveExceptions, post(policies::approve)),
        route(Method::POST, "/api/v1/exceptions/{id}/deny", P::ApproveExceptions, post(policies::deny)),
        route(Method::GET, "/api/v1/users", P::Admin, get(admin::list_users)),
        route(Method::POST, "/api/v1/users", P::Admin, post(admin::create_user)),
        route(Method::GET, "/api/v1/tokens", P::Read, get(admin::list_tokens)),
        route(Method::POST, "/api/v1/tokens", P::Read, post(admin::create_token)),
        route(Method::DELETE, "/api/v1/tokens/{id}", P::Read, delete(admin::revoke_token)),
        route(Method::GET, "/api/v1/audit", P::ReadAudit, get(admin::audit)),
        route(Method::GET, "/api/v1/credentials", P::ManageSecrets, get(secrets::list_credentials)),
        route(Method::POST, "/api/v1/credentials", P::ManageSecrets, post(secrets::create_credential)),
        route(Method::DELETE, "/api/v1/credentials/{name}", P::ManageSecrets, delete(secrets::delete_credential)),
        route(Method::GET, "/api/v1/signing-keys", P::Read, get(secrets::list_signing_keys)),
        route(Method::POST, "/api/v1/signing-keys", P::ManageSecrets, post(secrets::create_signing_key)),
        route(Method::GET, "/api/v1/signing-keys/{name}", P::Read, get(secrets::get_signing_key)),
        route(Method::DELETE, "/api/v1/signing-keys/{name}", P::ManageSecrets, delete(secrets::delete_signing_key)),
        route(Method::POST, "/api/v1/promotions", P::Submit, post(promotions::create)),
        route(Method::GET, "/api/v1/promotions", P::Read, get(promotions::list)),
        route(Method::GET, "/api/v1/promotions/{id}", P::Read, get(promotions::get)),
    ]
}

/// (method, path, permission) of every route, without the handlers.
pub fn permissions() -> Vec<(Method, &'static str, Permission)> {
    table().into_iter().map(|r| (r.method, r.path, r.permission)).collect()
}
