//! The JSON Schemas in `docs/` (the document, the work item) are generated
//! from the Rust types, so the contract a producer or consumer in another
//! language reads cannot drift from what this build sends and accepts. Each
//! type's crate has a test that the checked-in file is what its type
//! generates; `TRIBUTARY_UPDATE_SCHEMAS=1 cargo test --workspace -- checked_in_schema`
//! rewrites the files instead.

use std::path::Path;

use schemars::generate::{Contract, SchemaSettings};
use schemars::JsonSchema;
use serde_json::{Map, Value};

/// Set to `1` to rewrite the checked-in schemas instead of comparing them.
pub const UPDATE_VAR: &str = "TRIBUTARY_UPDATE_SCHEMAS";

/// The schema of `T` as it is checked in: JSON Schema 2020-12 with every
/// subschema inline (one self-contained file to read top to bottom, no
/// `$ref`), named by `id`. `contract` says whether it describes what
/// Tributary accepts (`Deserialize`: the document) or what it sends
/// (`Serialize`: the work item).
pub fn generate<T: JsonSchema>(id: &str, contract: Contract) -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.inline_subschemas = true;
            s.contract = contract;
        })
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    unwrap_descriptions(&mut schema);
    let Value::Object(generated) = schema else {
        return schema;
    };
    // Who the schema is first, then what it says (where serde_json keeps
    // insertion order; comparisons never depend on it).
    let mut root = Map::new();
    if let Some(meta) = generated.get("$schema") {
        root.insert("$schema".into(), meta.clone());
    }
    root.insert("$id".into(), Value::String(id.into()));
    for key in ["title", "description"] {
        if let Some(v) = generated.get(key) {
            root.insert(key.into(), v.clone());
        }
    }
    for (key, value) in generated {
        root.entry(key).or_insert(value);
    }
    Value::Object(root)
}

/// Descriptions come from doc comments, wrapped at 80 columns: joined into
/// one line per paragraph, as a reader of the JSON expects.
fn unwrap_descriptions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(text) if key == "description" => {
                        *text = text
                            .split("\n\n")
                            .map(|paragraph| paragraph.replace('\n', " "))
                            .collect::<Vec<_>>()
                            .join("\n\n");
                    }
                    _ => unwrap_descriptions(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(unwrap_descriptions),
        _ => {}
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaFileError {
    #[error(
        "{path} is not what the Rust type generates; regenerate it with \
         `{UPDATE_VAR}=1 cargo test --workspace -- checked_in_schema` and review the diff"
    )]
    Stale { path: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not JSON: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
}

/// Compares the schema checked in at `path` with `generated` (as JSON
/// values, so key order and layout do not matter); with
/// `TRIBUTARY_UPDATE_SCHEMAS=1` writes `generated` there instead.
pub fn check_checked_in(path: &Path, generated: &Value) -> Result<(), SchemaFileError> {
    let shown = path.display().to_string();
    let io = |source| SchemaFileError::Io {
        path: shown.clone(),
        source,
    };
    if std::env::var(UPDATE_VAR).is_ok_and(|v| v == "1") {
        let mut text =
            serde_json::to_string_pretty(generated).map_err(|source| SchemaFileError::Json {
                path: shown.clone(),
                source,
            })?;
        text.push('\n');
        return std::fs::write(path, text).map_err(io);
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    let checked_in: Value =
        serde_json::from_str(&text).map_err(|source| SchemaFileError::Json {
            path: shown.clone(),
            source,
        })?;
    if &checked_in == generated {
        Ok(())
    } else {
        Err(SchemaFileError::Stale { path: shown })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;

    fn document_schema() -> Value {
        generate::<Document>(
            "https://tributary.dev/schemas/document/v1.json",
            Contract::Deserialize,
        )
    }

    #[test]
    fn checked_in_schema_of_the_document_is_generated_from_the_type() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/document.schema.json"
        ));
        if let Err(err) = check_checked_in(path, &document_schema()) {
            panic!("{err}");
        }
    }

    #[test]
    fn the_document_schema_is_self_contained_and_says_what_is_required() {
        let schema = document_schema();
        assert!(!schema.to_string().contains("$ref"), "{schema:#}");
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["properties"]["schema_version"]["const"], 1);
        assert_eq!(schema["properties"]["id"]["maxLength"], 1024);
        let mut required: Vec<&str> = schema["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        required.sort_unstable();
        assert_eq!(
            required,
            [
                "content_hash",
                "id",
                "schema_version",
                "source",
                "updated_at"
            ]
        );
    }

    #[test]
    fn descriptions_are_one_line_per_paragraph() {
        let mut schema = serde_json::json!({
            "description": "one\ntwo\n\nthree",
            "properties": {"x": {"description": "a\nb"}},
        });
        unwrap_descriptions(&mut schema);
        assert_eq!(schema["description"], "one two\n\nthree");
        assert_eq!(schema["properties"]["x"]["description"], "a b");
    }

    #[test]
    fn a_stale_file_is_named_with_the_command_that_fixes_it() {
        let dir = std::env::temp_dir().join(format!("tributary-schema-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("x.schema.json");
        std::fs::write(&path, "{\"type\": \"object\"}\n").expect("write");
        let same = serde_json::json!({"type": "object"});
        check_checked_in(&path, &same).expect("equal values match");
        let err = check_checked_in(&path, &serde_json::json!({"type": "string"})).unwrap_err();
        assert!(err.to_string().contains(UPDATE_VAR), "{err}");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
