//! Statements built at run time (filters, lists of rows): placeholders numbered as they are
//! appended, and parameters of the few types the stores bind, so that one text serves both
//! backends.

use chrono::{DateTime, Utc};

/// A bound value of a query built here.
#[derive(Clone, Debug)]
pub(super) enum Param {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Time(DateTime<Utc>),
}

/// A statement under construction: conditions are appended with `$?`, numbered as they come.
pub(super) struct Sql {
    text: String,
    params: Vec<Param>,
}

impl Sql {
    pub(super) fn new(text: &str) -> Sql {
        Sql { text: text.to_string(), params: Vec::new() }
    }

    /// The statement `build` appends to an empty one, with its parameters.
    pub(super) fn built(build: impl FnOnce(&mut Sql)) -> (String, Vec<Param>) {
        let mut sql = Sql::new("");
        build(&mut sql);
        sql.finish()
    }

    /// A statement whose text uses `$1`…`$n` for `params` itself: placeholders appended later
    /// are numbered after them.
    pub(super) fn numbered(text: &str, params: Vec<Param>) -> Sql {
        Sql { text: text.to_string(), params }
    }

    /// Appends `fragment`, replacing each `$?` with the next parameter from `params`.
    pub(super) fn push(&mut self, fragment: &str, params: impl IntoIterator<Item = Param>) -> &mut Sql {
        let mut params = params.into_iter();
        let mut pieces = fragment.split("$?");
        self.text.push_str(pieces.next().unwrap_or(""));
        for piece in pieces {
            self.params.push(params.next().expect("a parameter for every placeholder"));
            self.text.push_str(&format!("${}", self.params.len()));
            self.text.push_str(piece);
        }
        self
    }

    /// Appends `rows` as the rows of a `VALUES` list — `($1, $2), ($3, $4)` — each ended by
    /// `suffix` (constants every row shares, e.g. `, 'in_flight'`).
    pub(super) fn push_values(
        &mut self,
        rows: impl IntoIterator<Item = Vec<Param>>,
        suffix: &str,
    ) -> &mut Sql {
        for (n, row) in rows.into_iter().enumerate() {
            let placeholders = vec!["$?"; row.len()].join(", ");
            self.push(&format!("{}({placeholders}{suffix})", if n == 0 { "" } else { ", " }), row);
        }
        self
    }

    /// The same statement with `head` in front (its placeholders keep their numbers).
    pub(super) fn after(self, head: &str) -> Sql {
        Sql { text: format!("{head}{}", self.text), params: self.params }
    }

    pub(super) fn finish(self) -> (String, Vec<Param>) {
        (self.text, self.params)
    }
}

/// Binds every parameter of a statement built here, in order.
macro_rules! bind_params {
    ($query:expr, $params:expr) => {{
        let mut query = $query;
        for param in $params {
            query = match param {
                $crate::store::sql::Param::Int(v) => query.bind(v),
                $crate::store::sql::Param::OptInt(v) => query.bind(v),
                $crate::store::sql::Param::Text(v) => query.bind(v),
                $crate::store::sql::Param::OptText(v) => query.bind(v),
                $crate::store::sql::Param::Time(v) => query.bind(v),
            };
        }
        query
    }};
}
pub(super) use bind_params;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_rows_are_numbered_after_what_came_before() {
        let mut sql = Sql::new("");
        sql.push("UPDATE t SET at = $? FROM (VALUES ", [Param::Int(7)]);
        sql.push_values(
            [vec![Param::Int(1), Param::OptInt(None)], vec![Param::Int(2), Param::OptInt(Some(3))]],
            ", 'x'",
        );
        sql.push(") AS v", []);
        let (text, params) = sql.finish();
        assert_eq!(text, "UPDATE t SET at = $1 FROM (VALUES ($2, $3, 'x'), ($4, $5, 'x')) AS v");
        assert_eq!(params.len(), 5);
        assert!(matches!(params[4], Param::OptInt(Some(3))));
    }
}
