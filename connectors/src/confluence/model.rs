//! One page or blog post as the connector sees it, read from either API
//! shape: REST v1 content (Data Center, and Cloud CQL search) or Cloud REST
//! v2. Every field is read leniently: one odd page must not fail a batch.

use chrono::{DateTime, Utc};
use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct RawPage {
    pub id: String,
    /// `page` or `blogpost`.
    pub kind: String,
    /// `current`, `trashed`, `archived`, `draft`...
    pub status: String,
    pub title: String,
    pub space_key: Option<String>,
    pub space_name: Option<String>,
    /// Ancestor titles, root first.
    pub ancestors: Vec<String>,
    /// Ancestor ids, root first (a move changes them without a new version).
    pub ancestor_ids: Vec<String>,
    pub labels: Vec<String>,
    pub version: u64,
    pub when: Option<DateTime<Utc>>,
    pub author: Option<String>,
    /// `_links.webui`, relative to the site's web base.
    pub webui: Option<String>,
    /// Storage-format XHTML; `None` when the response carried no body.
    pub storage: Option<String>,
    /// A comment's page (CQL `type = comment` results, `expand=container`).
    pub container_id: Option<String>,
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, k| v.get(*k))
        .and_then(Value::as_str)
}

fn id_of(v: &Value) -> Option<String> {
    match v.get("id")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Confluence timestamps: RFC 3339, or `2025-03-10T10:07:59.123+0000`.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl RawPage {
    /// REST v1 content, with `expand=body.storage,version,ancestors,metadata.labels,space`.
    pub fn from_v1(v: &Value) -> Option<RawPage> {
        Some(RawPage {
            id: id_of(v)?,
            kind: str_at(v, &["type"]).unwrap_or("page").to_owned(),
            status: str_at(v, &["status"]).unwrap_or("current").to_owned(),
            title: str_at(v, &["title"]).unwrap_or_default().to_owned(),
            space_key: str_at(v, &["space", "key"]).map(str::to_owned),
            space_name: str_at(v, &["space", "name"]).map(str::to_owned),
            ancestors: v
                .get("ancestors")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| str_at(x, &["title"]).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            ancestor_ids: v
                .get("ancestors")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(id_of).collect())
                .unwrap_or_default(),
            labels: v
                .pointer("/metadata/labels/results")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| str_at(x, &["name"]).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            version: v
                .pointer("/version/number")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            when: str_at(v, &["version", "when"]).and_then(parse_time),
            author: str_at(v, &["version", "by", "displayName"]).map(str::to_owned),
            webui: str_at(v, &["_links", "webui"]).map(str::to_owned),
            storage: str_at(v, &["body", "storage", "value"]).map(str::to_owned),
            container_id: v.get("container").and_then(id_of),
        })
    }

    /// Cloud REST v2 page / blog post (`kind` comes from the endpoint listed).
    pub fn from_v2(v: &Value, kind: &str) -> Option<RawPage> {
        Some(RawPage {
            id: id_of(v)?,
            kind: kind.to_owned(),
            status: str_at(v, &["status"]).unwrap_or("current").to_owned(),
            title: str_at(v, &["title"]).unwrap_or_default().to_owned(),
            version: v
                .pointer("/version/number")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            when: str_at(v, &["version", "createdAt"]).and_then(parse_time),
            webui: str_at(v, &["_links", "webui"]).map(str::to_owned),
            storage: str_at(v, &["body", "storage", "value"]).map(str::to_owned),
            ..RawPage::default()
        })
    }

    /// Fills what v2 does not carry (ancestors, labels, author name, space
    /// name) from the v1 record of the same page.
    pub fn enrich(&mut self, v1: &RawPage) {
        self.ancestors.clone_from(&v1.ancestors);
        self.ancestor_ids.clone_from(&v1.ancestor_ids);
        self.labels.clone_from(&v1.labels);
        if self.space_key.is_none() {
            self.space_key.clone_from(&v1.space_key);
        }
        if self.author.is_none() {
            self.author.clone_from(&v1.author);
        }
        if self.space_name.is_none() {
            self.space_name.clone_from(&v1.space_name);
        }
        if self.webui.is_none() {
            self.webui.clone_from(&v1.webui);
        }
    }

    /// What changes with every edit: version number and time.
    pub fn version_key(&self) -> String {
        let when = self
            .when
            .map(|w| w.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        format!("v{}@{when}", self.version)
    }

    /// The item fingerprint: the version, then a digest of where the page
    /// sits (title, ancestors, space) and one of its labels. Renaming a
    /// parent, moving a page and editing labels change what is indexed
    /// without a new version; the digests make those changes visible.
    pub fn fingerprint(&self) -> String {
        format!(
            "{}#{}:{}",
            self.version_key(),
            self.place_digest(),
            digest(self.labels.iter().map(String::as_str))
        )
    }

    /// Digest of the page's place in its space: its title, its ancestors
    /// (ids and titles) and its space. When it changes, the breadcrumbs
    /// of the pages below change too.
    pub fn place_digest(&self) -> String {
        let space = self.space_key.as_deref().unwrap_or("");
        digest(
            [space, self.title.as_str()]
                .into_iter()
                .chain(self.ancestor_ids.iter().map(String::as_str))
                .chain(["/"])
                .chain(self.ancestors.iter().map(String::as_str)),
        )
    }
}

/// The place digest inside a recorded fingerprint (`None` for one written
/// before fingerprints carried it).
pub fn recorded_place(fingerprint: &str) -> Option<&str> {
    let (_, digests) = fingerprint.split_once('#')?;
    digests.split(':').next()
}

/// A short, stable digest (FNV-1a, 64 bit) of a sequence of strings.
fn digest<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0x1f]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// One footer comment of a page, from either API shape.
#[derive(Debug, Clone, Default)]
pub struct RawComment {
    pub id: String,
    /// Display name (v1); Cloud v2 names only an account id.
    pub author: Option<String>,
    pub when: Option<DateTime<Utc>>,
    pub storage: String,
}

impl RawComment {
    /// REST v1 (`expand=body.storage,version`) or v2 (`body-format=storage`).
    pub fn from_json(v: &Value) -> Option<RawComment> {
        Some(RawComment {
            id: id_of(v)?,
            author: str_at(v, &["version", "by", "displayName"]).map(str::to_owned),
            when: str_at(v, &["version", "when"])
                .or_else(|| str_at(v, &["version", "createdAt"]))
                .and_then(parse_time),
            storage: str_at(v, &["body", "storage", "value"])
                .unwrap_or_default()
                .to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn v1_and_v2_shapes_read_to_the_same_page() {
        let v1 = RawPage::from_v1(&json!({
            "id": "42", "type": "blogpost", "status": "current", "title": "Deploys",
            "space": {"key": "ENG", "name": "Engineering"},
            "ancestors": [{"id": "1", "title": "Home"}, {"id": "2", "title": "Runbooks"}],
            "metadata": {"labels": {"results": [{"name": "ops"}]}},
            "version": {"number": 3, "when": "2025-01-10T08:01:00.000+0100", "by": {"displayName": "Jane Doe"}},
            "body": {"storage": {"value": "<p>x</p>"}},
            "_links": {"webui": "/spaces/ENG/pages/42"}
        }))
        .unwrap();
        assert_eq!(v1.ancestors, ["Home", "Runbooks"]);
        assert_eq!(v1.labels, ["ops"]);
        assert_eq!(v1.version_key(), "v3@2025-01-10T07:01:00.000Z");
        assert_eq!(v1.ancestor_ids, ["1", "2"]);
        assert!(v1.fingerprint().starts_with("v3@2025-01-10T07:01:00.000Z#"));
        let mut v2 = RawPage::from_v2(
            &json!({"id": 42, "title": "Deploys", "version": {"number": 3, "createdAt": "2025-01-10T07:01:00Z"}}),
            "page",
        )
        .unwrap();
        v2.enrich(&v1);
        assert_eq!(v2.author.as_deref(), Some("Jane Doe"));
        assert_eq!(v2.fingerprint(), v1.fingerprint());
        assert!(RawPage::from_v1(&json!({"title": "no id"})).is_none());
    }

    #[test]
    fn the_fingerprint_moves_with_title_ancestors_space_and_labels() {
        let page = RawPage {
            id: "7".into(),
            title: "Child".into(),
            space_key: Some("ENG".into()),
            ancestors: vec!["Home".into()],
            ancestor_ids: vec!["1".into()],
            labels: vec!["ops".into()],
            version: 2,
            ..RawPage::default()
        };
        let base = page.fingerprint();
        assert_eq!(recorded_place(&base), Some(page.place_digest().as_str()));
        assert_eq!(recorded_place("v2@"), None);
        let variants = [
            RawPage {
                ancestors: vec!["Start".into()],
                ..page.clone()
            },
            RawPage {
                ancestor_ids: vec!["9".into()],
                ..page.clone()
            },
            RawPage {
                space_key: Some("SEC".into()),
                ..page.clone()
            },
            RawPage {
                title: "Kid".into(),
                ..page.clone()
            },
            RawPage {
                labels: vec!["ops".into(), "new".into()],
                ..page.clone()
            },
        ];
        for v in &variants {
            assert_ne!(v.fingerprint(), base, "{v:?}");
        }
        assert_eq!(
            recorded_place(&variants[4].fingerprint()),
            recorded_place(&base),
            "labels are not part of the place"
        );
    }
}
