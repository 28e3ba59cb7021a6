//! K3Cloud's view of the master data: base-data references in a model are
//! resolved by number (`{"FNumber":"X"}`), name (`FName`) or internal id
//! (`FID`), as K3Cloud does with `NumberSearch`.

use std::borrow::Cow;

use serde_json::Value;

use super::forms::BaseKind;
use super::node::{Shape, Val};
use crate::dataset::master::MasterData;

/// A resolved base-data record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct K3Ref {
    pub id: i64,
    pub number: String,
    pub name: String,
}

/// How a model refers to base data.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RefSpec<'a> {
    Number(Cow<'a, str>),
    Name(Cow<'a, str>),
    Id(i64),
}

impl RefSpec<'_> {
    pub fn text(&self) -> String {
        match self {
            RefSpec::Number(n) | RefSpec::Name(n) => n.to_string(),
            RefSpec::Id(id) => id.to_string(),
        }
    }
}

fn scalar_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(Cow::Borrowed(s.trim())),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

fn node_text<'d>(v: Val<'d, '_>) -> Option<Cow<'d, str>> {
    match v.shape() {
        Shape::String(s) if !s.trim().is_empty() => Some(Cow::Borrowed(s.trim())),
        Shape::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// The reference named by an object's `FNumber`, else `FID`/`Id`, else
/// `FName`, each looked up case-insensitively by `get`.
fn spec_from<'v>(get: impl Fn(&str) -> Option<Cow<'v, str>>) -> Result<Option<RefSpec<'v>>, ()> {
    if let Some(n) = get("FNumber") {
        return Ok(Some(RefSpec::Number(n)));
    }
    if let Some(id) = get("FID").or_else(|| get("Id")) {
        return match id.parse::<i64>() {
            Ok(0) => Ok(None),
            Ok(id) => Ok(Some(RefSpec::Id(id))),
            Err(_) => Ok(Some(RefSpec::Number(id))),
        };
    }
    Ok(get("FName").map(RefSpec::Name))
}

/// Reads `{"FNumber":…}` / `{"FNUMBER":…}` / `{"FName":…}` / `{"FID":…}`.
/// `Ok(None)` is "no value" (null, `{}` or blank); a bare scalar is
/// `Err`: K3Cloud ignores it, which makes a required field missing.
pub(crate) fn ref_spec(v: &Value) -> Result<Option<RefSpec<'_>>, ()> {
    match v {
        Value::Null => Ok(None),
        Value::Object(obj) => spec_from(|name| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| scalar_text(v))
        }),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        _ => Err(()),
    }
}

/// [`ref_spec`] of a request body's node.
pub(crate) fn node_ref_spec<'d>(v: Val<'d, '_>) -> Result<Option<RefSpec<'d>>, ()> {
    match v.shape() {
        Shape::Null => Ok(None),
        Shape::Object(obj) => spec_from(|name| obj.find_ignore_case(name).and_then(node_text)),
        Shape::String(s) if s.trim().is_empty() => Ok(None),
        _ => Err(()),
    }
}

/// Every record of a kind, in K3Cloud id order.
pub(crate) fn records(
    master: &MasterData,
    kind: BaseKind,
    bill_types: &[&'static str],
) -> Vec<K3Ref> {
    let r = |id: i64, number: &str, name: &str| K3Ref {
        id,
        number: number.to_string(),
        name: name.to_string(),
    };
    match kind {
        BaseKind::Material => master
            .materials
            .iter()
            .map(|m| r(m.k3_id, &m.number, &m.name))
            .collect(),
        BaseKind::Supplier => master
            .suppliers
            .iter()
            .map(|s| r(s.k3_id, &s.number, &s.name))
            .collect(),
        BaseKind::Customer => master
            .customers
            .iter()
            .map(|c| r(c.k3_id, &c.number, &c.name))
            .chain(master.shops.iter().enumerate().map(|(i, s)| {
                r(
                    350_001 + i as i64,
                    &s.jst_shop_id.to_string(),
                    &format!("{}(店铺客户)", s.name),
                )
            }))
            .collect(),
        BaseKind::Stock => master
            .warehouses
            .iter()
            .chain(master.jst_warehouses.iter())
            .map(|w| r(w.k3_id, &w.number, &w.name))
            .collect(),
        BaseKind::Org => master
            .orgs
            .iter()
            .map(|o| r(o.k3_id, &o.number, &o.name))
            .collect(),
        BaseKind::Currency => master
            .currencies
            .iter()
            .map(|c| r(c.k3_id, &c.number, &c.name))
            .collect(),
        BaseKind::Unit => master
            .units
            .iter()
            .map(|u| r(u.k3_id, &u.number, &u.name))
            .collect(),
        BaseKind::BillType => bill_types
            .iter()
            .enumerate()
            .map(|(i, t)| r(i as i64 + 1, t, t))
            .collect(),
        BaseKind::Unchecked => Vec::new(),
    }
}

/// `(id, number, name)` of the records of a kind, without allocating.
fn each(
    master: &MasterData,
    kind: BaseKind,
    bill_types: &[&'static str],
    mut f: impl FnMut(i64, &str, &str) -> bool,
) -> bool {
    match kind {
        BaseKind::Material => master
            .materials
            .iter()
            .any(|m| f(m.k3_id, &m.number, &m.name)),
        BaseKind::Supplier => master
            .suppliers
            .iter()
            .any(|s| f(s.k3_id, &s.number, &s.name)),
        BaseKind::Customer => {
            master
                .customers
                .iter()
                .any(|c| f(c.k3_id, &c.number, &c.name))
                || master
                    .shops
                    .iter()
                    .enumerate()
                    .any(|(i, s)| f(350_001 + i as i64, &s.jst_shop_id.to_string(), &s.name))
        }
        BaseKind::Stock => master
            .warehouses
            .iter()
            .chain(master.jst_warehouses.iter())
            .any(|w| f(w.k3_id, &w.number, &w.name)),
        BaseKind::Org => master.orgs.iter().any(|o| f(o.k3_id, &o.number, &o.name)),
        BaseKind::Currency => master
            .currencies
            .iter()
            .any(|c| f(c.k3_id, &c.number, &c.name)),
        BaseKind::Unit => master.units.iter().any(|u| f(u.k3_id, &u.number, &u.name)),
        BaseKind::BillType => bill_types
            .iter()
            .enumerate()
            .any(|(i, t)| f(i as i64 + 1, t, t)),
        BaseKind::Unchecked => false,
    }
}

fn matches(spec: &RefSpec, id: i64, number: &str, name: &str) -> bool {
    match spec {
        RefSpec::Number(n) => number.eq_ignore_ascii_case(n),
        RefSpec::Name(n) => {
            name == n.as_ref()
                || name
                    .strip_prefix(n.as_ref())
                    .is_some_and(|rest| rest.starts_with('('))
        }
        RefSpec::Id(i) => id == *i,
    }
}

/// Whether a reference exists; what Save validation needs, on its hot path.
pub(crate) fn exists(
    master: &MasterData,
    kind: BaseKind,
    bill_types: &[&'static str],
    spec: &RefSpec,
) -> bool {
    if kind == BaseKind::Unchecked {
        return true;
    }
    if let RefSpec::Number(n) = spec {
        match kind {
            BaseKind::Material => return master.material(n).is_some(),
            BaseKind::Supplier => return master.supplier(n).is_some(),
            BaseKind::Customer if master.customer(n).is_some() => return true,
            _ => {}
        }
    }
    each(master, kind, bill_types, |id, number, name| {
        matches(spec, id, number, name)
    })
}

/// Resolves a reference; `None` when it does not exist. Unchecked kinds
/// resolve to themselves with id 0.
pub(crate) fn resolve(
    master: &MasterData,
    kind: BaseKind,
    bill_types: &[&'static str],
    spec: &RefSpec,
) -> Option<K3Ref> {
    if kind == BaseKind::Unchecked {
        return Some(K3Ref {
            id: 0,
            number: spec.text(),
            name: spec.text(),
        });
    }
    let mut found = None;
    each(master, kind, bill_types, |id, number, name| {
        let hit = matches(spec, id, number, name);
        if hit {
            found = Some(K3Ref {
                id,
                number: number.to_string(),
                name: name.to_string(),
            });
        }
        hit
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MasterConfig;

    #[test]
    fn reads_and_resolves_references() {
        let master = MasterData::generate(&MasterConfig::default());
        let by_number = serde_json::json!({"FNUMBER": "SKU00001"});
        let spec = ref_spec(&by_number).expect("object").expect("value");
        assert_eq!(spec, RefSpec::Number("SKU00001".into()));
        let doc = crate::k3cloud::node::parse(br#"{"fnumber":" SKU00001 "}"#).expect("doc");
        assert_eq!(node_ref_spec(doc.root()), Ok(Some(spec.clone())));
        assert!(resolve(&master, BaseKind::Material, &[], &spec).is_some());
        let org_number = serde_json::json!({"FNumber": 100});
        let org = ref_spec(&org_number).expect("object").expect("value");
        assert_eq!(
            resolve(&master, BaseKind::Org, &[], &org).map(|r| r.id),
            Some(1)
        );
        assert_eq!(ref_spec(&serde_json::json!({})), Ok(None));
        assert!(ref_spec(&serde_json::json!("SKU00001")).is_err());
        let shop = RefSpec::Number("10001".into());
        assert!(resolve(&master, BaseKind::Customer, &[], &shop).is_some());
        assert!(
            resolve(
                &master,
                BaseKind::Material,
                &[],
                &RefSpec::Number("NOPE".into())
            )
            .is_none()
        );
    }
}
