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

    /// Appends `rows` as the rows of a `VALUES` list — `($1, $2), ($3, $4)` — and returns the
    /// placeholders of each row's first column, comma-separated (`$1, $3`): the rows' keys, for a
    /// condition an index serves.
    pub(super) fn push_values(&mut self, rows: impl IntoIterator<Item = Vec<Param>>) -> String {
        let mut keys = Vec::new();
        for (n, row) in rows.into_iter().enumerate() {
            keys.push(format!("${}", self.params.len() + 1));
            let placeholders = vec!["$?"; row.len()].join(", ");
            self.push(&format!("{}({placeholders})", if n == 0 { "" } else { ", " }), row);
        }
        keys.join(", ")
    }

    /// [`Sql::push_values`], padded to the next power of two rows by repeating the last one: a
    /// statement run again and again with lists of any length is thus prepared and planned for a
    /// few lengths only. Only for statements a repeated row cannot change (an `UPDATE ... FROM`
    /// updates each row once), and never with no rows (`VALUES` needs one).
    pub(super) fn push_padded_values(&mut self, mut rows: Vec<Vec<Param>>) -> String {
        let last = rows.last().cloned().expect("a list of rows is never empty");
        rows.resize(rows.len().next_power_of_two(), last);
        self.push_values(rows)
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
        let keys = sql.push_values([
            vec![Param::Int(1), Param::OptInt(None)],
            vec![Param::Int(2), Param::OptInt(Some(3))],
        ]);
        sql.push(") AS v", []);
        assert_eq!(keys, "$2, $4");
        let (text, params) = sql.finish();
        assert_eq!(text, "UPDATE t SET at = $1 FROM (VALUES ($2, $3), ($4, $5)) AS v");
        assert_eq!(params.len(), 5);
        assert!(matches!(params[4], Param::OptInt(Some(3))));
    }

    #[test]
    fn padded_values_repeat_the_last_row_up_to_a_power_of_two_and_name_their_keys() {
        let mut sql = Sql::new("");
        sql.push("UPDATE t SET at = $? FROM (VALUES ", [Param::Int(7)]);
        let keys = sql.push_padded_values(
            (1..=3).map(|id| vec![Param::Int(id), Param::Text(format!("row {id}"))]).collect(),
        );
        sql.push(&format!(") AS v WHERE t.id IN ({keys}) AND t.id = v.column1"), []);
        let (text, params) = sql.finish();
        assert_eq!(
            text,
            "UPDATE t SET at = $1 FROM (VALUES ($2, $3), ($4, $5), ($6, $7), ($8, $9)) AS v \
             WHERE t.id IN ($2, $4, $6, $8) AND t.id = v.column1"
        );
        assert!(matches!(params[7], Param::Int(3)));
        assert!(matches!(&params[8], Param::Text(text) if text == "row 3"));
        let mut sql = Sql::new("");
        assert_eq!(sql.push_padded_values(vec![vec![Param::Int(1)]; 4]), "$1, $2, $3, $4");
    }
}
