//! The bills K3Cloud holds after Save/BatchSave, per form, indexed by bill
//! number and internal id.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;

use super::forms::FormDef;

#[derive(Clone, Debug)]
pub(crate) struct SavedBill {
    pub id: i64,
    pub number: String,
    pub form: &'static FormDef,
    /// `A` created, `C` audited (`IsAutoSubmitAndAudit`).
    pub status: &'static str,
    pub created: i64,
    pub modified: i64,
    /// The `Model` as received, with `FID` set.
    pub model: ModelJson,
    pub first_entry_id: i64,
    pub entry_count: usize,
}

impl SavedBill {
    /// The model's JSON: its members in key order, `FID` first.
    pub fn model_json(&self) -> Arc<str> {
        match &self.model {
            ModelJson::Written(text) => text.clone(),
            ModelJson::Deferred { batch, index } => {
                let tail = batch.tail(*index).unwrap_or("}");
                Arc::from(format!("{{\"FID\":{}{tail}", self.id))
            }
        }
    }
}

/// A saved model's JSON.
#[derive(Clone, Debug)]
pub(crate) enum ModelJson {
    Written(Arc<str>),
    /// Written out when first asked for. Writing out every model of a
    /// BatchSave cost about as much as validating them, and unless bodies
    /// are recorded, most runs never read a model back.
    Deferred {
        batch: Arc<SavedBatch>,
        index: usize,
    },
}

/// The body of a Save or BatchSave, kept for the models it saved.
pub(crate) struct SavedBatch {
    body: Bytes,
    /// Per model of the call: its JSON after `FID`, from the `,` or `}`
    /// on. Written for all the models at the first read of any, so that a
    /// query over many bills parses each body once.
    tails: OnceLock<Vec<Option<String>>>,
}

impl SavedBatch {
    pub fn new(body: Bytes) -> SavedBatch {
        SavedBatch {
            body,
            tails: OnceLock::new(),
        }
    }

    fn tail(&self, index: usize) -> Option<&str> {
        self.tails
            .get_or_init(|| super::save::model_tails(&self.body))
            .get(index)?
            .as_deref()
    }
}

impl fmt::Debug for SavedBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SavedBatch")
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct FormBills {
    bills: Vec<SavedBill>,
    by_number: HashMap<String, usize>,
    by_id: HashMap<i64, usize>,
}

#[derive(Debug, Default)]
pub(crate) struct K3Store {
    forms: HashMap<&'static str, FormBills>,
    next_id: i64,
    next_entry_id: i64,
}

impl K3Store {
    pub fn bills(&self, form: &FormDef) -> &[SavedBill] {
        self.forms
            .get(form.id)
            .map(|f| f.bills.as_slice())
            .unwrap_or(&[])
    }

    pub fn by_number(&self, form: &FormDef, number: &str) -> Option<&SavedBill> {
        let f = self.forms.get(form.id)?;
        f.by_number.get(number).map(|i| &f.bills[*i])
    }

    pub fn by_id(&self, form: &FormDef, id: i64) -> Option<&SavedBill> {
        let f = self.forms.get(form.id)?;
        f.by_id.get(&id).map(|i| &f.bills[*i])
    }

    /// A new bill id and the first of `entries` consecutive entry ids.
    pub fn allocate(&mut self, entries: usize) -> (i64, i64) {
        if self.next_id == 0 {
            self.next_id = 100_001;
            self.next_entry_id = 200_001;
        }
        let id = self.next_id;
        let entry = self.next_entry_id;
        self.next_id += 1;
        self.next_entry_id += entries as i64;
        (id, entry)
    }

    /// Stores a bill, replacing the one with the same id if any.
    pub fn put(&mut self, bill: SavedBill) {
        let f = self.forms.entry(bill.form.id).or_default();
        match f.by_id.get(&bill.id).copied() {
            Some(i) => {
                let old = &f.bills[i].number;
                if *old != bill.number {
                    f.by_number.remove(old);
                    f.by_number.insert(bill.number.clone(), i);
                }
                f.bills[i] = bill;
            }
            None => {
                let i = f.bills.len();
                f.by_number.insert(bill.number.clone(), i);
                f.by_id.insert(bill.id, i);
                f.bills.push(bill);
            }
        }
    }

    pub fn count(&self, form: &FormDef) -> usize {
        self.bills(form).len()
    }
}
