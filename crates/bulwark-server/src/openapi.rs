//! The OpenAPI 3.1 document, generated from the handlers' annotations and the API types
//! (utoipa), then completed from the route table: each operation's permission
//! (`x-bulwark-permission`), its security requirement and the problem answers every route
//! can give (400, 401, 403, 413, 429). A readable HTML page is rendered from the same
//! document, here, without any script or download.

use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::{admin, images, ops, policies, promotions, routes, scans, secrets};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Bulwark API",
        description = "Scans, images, inventory, policies, exceptions, users, audit, secrets (registry credentials, signing keys) and promotions of a Bulwark server."
    ),
    paths(
        ops::healthz,
        ops::readyz,
        ops::metrics,
        ops::openapi_json,
        ops::docs,
        scans::create,
        scans::get,
        scans::events,
        scans::cancel,
        scans::report,
        scans::upload,
        images::list,
        images::get,
        images::affected,
        images::packages,
        policies::list,
        policies::get,
        policies::put,
        policies::versions,
        policies::dry_run,
        policies::request,
        policies::list_exceptions,
        policies::get_exception,
        policies::approve,
        policies::deny,
        admin::list_users,
        admin::create_user,
        admin::list_tokens,
        admin::create_token,
        admin::revoke_token,
        admin::audit,
        secrets::list_credentials,
        secrets::create_credential,
        secrets::delete_credential,
        secrets::list_signing_keys,
        secrets::create_signing_key,
        secrets::get_signing_key,
        secrets::delete_signing_key,
        promotions::create,
        promotions::list,
        promotions::get,
    ),
    components(schemas(bulwark_api::Problem, bulwark_api::FieldError, bulwark_api::Role, bulwark_api::Permission))
)]
struct ApiDoc;

/// The document, or what is inconsistent between it and the route table.
pub fn document() -> Result<Value, String> {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).map_err(|e| e.to_string())?;
    let table = routes::permissions();
    let mut seen = Vec::new();
    let problem = json!({"description": "", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}});
    let paths = doc.get_mut("paths").and_then(Value::as_object_mut).ok_or("no paths")?;
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, op) in item.iter_mut() {
            let Some((_, _, permission)) =
                table.iter().find(|(m, p, _)| m.as_str().eq_ignore_ascii_case(method) && p == path)
            else {
                return Err(format!("{} {path} is in the document but not in routes::table", method.to_uppercase()));
            };
            seen.push((method.to_uppercase(), path.clone()));
            let Some(op) = op.as_object_mut() else { continue };
            let perm = serde_json::to_value(permission).map_err(|e| e.to_string())?;
            op.insert("x-bulwark-permission".to_owned(), perm);
            let public = *permission == bulwark_api::Permission::Public;
            op.insert("security".to_owned(), if public { json!([]) } else { json!([{"bearer": []}]) });
            let responses = op.entry("responses").or_insert_with(|| json!({}));
            let mut add = |code: &str, description: &str| {
                if let Some(r) = responses.as_object_mut()
                    && !r.contains_key(code)
                {
                    let mut p = problem.clone();
                    p["description"] = Value::String(description.to_owned());
                    r.insert(code.to_owned(), p);
                }
            };
            add("400", "A parameter is invalid (the problem names it)");
            add("429", "Rate limited (see Retry-After)");
            if !public {
                add("401", "No valid token (missing, unknown, expired or revoked)");
                add("403", "The token's role lacks this permission");
            }
            if matches!(method.as_str(), "post" | "put") {
                add("413", "The body exceeds the server's limit");
                add("415", "The body is not JSON");
                add("422", "A field of the body is invalid (the problem names it)");
            }
            if path.contains('{') {
                add("404", "No such resource");
            }
        }
    }
    for (m, p, _) in &table {
        if !seen.iter().any(|(sm, sp)| sm == m.as_str() && sp == p) {
            return Err(format!("{m} {p} is routed but missing from the OpenAPI document"));
        }
    }
    doc["components"]["securitySchemes"] = json!({"bearer": {"type": "http", "scheme": "bearer",
        "description": "An API token (`bwk_…`), shown once when created"}});
    Ok(doc)
}

/// The document as JSON text (an inconsistency is a server bug: it is logged and served).
pub fn document_json() -> String {
    match document() {
        Ok(doc) => serde_json::to_string_pretty(&doc).unwrap_or_default(),
        Err(e) => {
            crate::util::log(&format!("OpenAPI document: {e}"));
            serde_json::to_string(&ApiDoc::openapi()).unwrap_or_default()
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn schema_name(v: &Value) -> String {
    if let Some(r) = v.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#schema-{0}\">{0}</a>", esc(name));
    }
    if let Some(items) = v.get("items") {
        return format!("array of {}", schema_name(items));
    }
    for k in ["oneOf", "anyOf", "allOf"] {
        if let Some(list) = v.get(k).and_then(Value::as_array) {
            return list.iter().map(schema_name).collect::<Vec<_>>().join(" | ");
        }
    }
    match v.get("type") {
        Some(Value::String(t)) => esc(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).map(esc).collect::<Vec<_>>().join(" | "),
        _ => "object".to_owned(),
    }
}

/// The document as one readable HTML page: every operation with its permission, parameters,
/// body and answers, then every schema with its fields.
pub fn html(doc_text: &str) -> String {
    let doc: Value = serde_json::from_str(doc_text).unwrap_or(Value::Null);
    let mut out = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Bulwark API</title><style>\
         body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}code,td{font-size:90%}\
         .op{border-top:1px solid #ccc;padding:.5em 0}.m{font-weight:bold;display:inline-block;width:4em}\
         table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}</style></head><body>",
    );
    out.push_str(&format!(
        "<h1>{}</h1><p>{}</p><p>OpenAPI {} — <a href=\"/api/v1/openapi.json\">openapi.json</a></p><h2>Operations</h2>",
        esc(doc["info"]["title"].as_str().unwrap_or("API")),
        esc(doc["info"]["description"].as_str().unwrap_or("")),
        esc(doc["openapi"].as_str().unwrap_or(""))
    ));
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            let Some(item) = item.as_object() else { continue };
            for (method, op) in item {
                out.push_str(&format!(
                    "<div class=\"op\"><span class=\"m\">{}</span><code>{}</code> — permission <code>{}</code><p>{}</p>",
                    esc(&method.to_uppercase()),
                    esc(path),
                    esc(op["x-bulwark-permission"].as_str().unwrap_or("?")),
                    esc(op["description"].as_str().or(op["summary"].as_str()).unwrap_or(""))
                ));
                if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
                    out.push_str("<table><tr><th>parameter</th><th>in</th><th>type</th><th>description</th></tr>");
                    for p in params {
                        out.push_str(&format!(
                            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            esc(p["name"].as_str().unwrap_or("")),
                            esc(p["in"].as_str().unwrap_or("")),
                            schema_name(&p["schema"]),
                            esc(p["description"].as_str().unwrap_or(""))
                        ));
                    }
                    out.push_str("</table>");
                }
                if let Some(body) = op["requestBody"]["content"].as_object().and_then(|c| c.values().next()) {
                    out.push_str(&format!("<p>Body: {}</p>", schema_name(&body["schema"])));
                }
                if let Some(responses) = op["responses"].as_object() {
                    out.push_str("<ul>");
                    for (code, r) in responses {
                        let schema =
                            r["content"].as_object().and_then(|c| c.values().next()).map(|c| schema_name(&c["schema"]));
                        out.push_str(&format!(
                            "<li><b>{}</b> {}{}</li>",
                            esc(code),
                            esc(r["description"].as_str().unwrap_or("")),
                            schema.map(|s| format!(" — {s}")).unwrap_or_default()
                        ));
                    }
                    out.push_str("</ul>");
                }
                out.push_str("</div>");
            }
        }
    }
    out.push_str("<h2>Schemas</h2>");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, s) in schemas {
            out.push_str(&format!(
                "<h3 id=\"schema-{0}\">{0}</h3><p>{1}</p>",
                esc(name),
                esc(s["description"].as_str().unwrap_or(""))
            ));
            if let Some(values) = s["enum"].as_array() {
                let v: Vec<String> = values.iter().map(|v| esc(&v.to_string())).collect();
                out.push_str(&format!("<p>One of: {}</p>", v.join(", ")));
            }
            if let Some(props) = s["properties"].as_object() {
                let required: Vec<&str> =
                    s["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                out.push_str("<table><tr><th>field</th><th>type</th><th>required</th><th>description</th></tr>");
                for (field, p) in props {
                    out.push_str(&format!(
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        esc(field),
                        schema_name(p),
                        if required.contains(&field.as_str()) { "yes" } else { "" },
                        esc(p["description"].as_str().unwrap_or(""))
                    ));
                }
                out.push_str("</table>");
            }
        }
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_with_its_permission() {
        let doc = document().expect("document and route table agree");
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
        let ops: usize = doc["paths"].as_object().unwrap().values().map(|i| i.as_object().unwrap().len()).sum();
        assert_eq!(ops, routes::permissions().len());
        let html = html(&serde_json::to_string(&doc).unwrap());
        assert!(html.contains("/api/v1/scans/{id}/report"));
        assert!(html.contains("id=\"schema-ScanRequest\""));
    }
}
