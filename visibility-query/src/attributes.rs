//! Search attributes: names, types, aliases, and preallocated store fields.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The type of a search attribute.
///
/// ```
/// use visibility_query::SearchAttributeType;
/// let t: SearchAttributeType = "KeywordList".parse().unwrap();
/// assert_eq!(t.to_string(), "KeywordList");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SearchAttributeType {
    /// An exact string (IDs, names, statuses).
    Keyword,
    /// Full text, matched by tokens.
    Text,
    /// A 64-bit signed integer.
    Int,
    /// A 64-bit float.
    Double,
    /// A boolean.
    Bool,
    /// A point in time.
    Datetime,
    /// A list of keywords; `=` means "contains".
    KeywordList,
}

impl SearchAttributeType {
    /// Every type, in the order of Temporal's preallocated SQL columns.
    pub const ALL: [SearchAttributeType; 7] = [
        Self::Bool,
        Self::Datetime,
        Self::Double,
        Self::Int,
        Self::Keyword,
        Self::KeywordList,
        Self::Text,
    ];

    /// The name as Temporal spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Keyword => "Keyword",
            Self::Text => "Text",
            Self::Int => "Int",
            Self::Double => "Double",
            Self::Bool => "Bool",
            Self::Datetime => "Datetime",
            Self::KeywordList => "KeywordList",
        }
    }
}

impl fmt::Display for SearchAttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of [`SearchAttributeType::from_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown search attribute type '{0}'")]
pub struct ParseTypeError(pub String);

impl FromStr for SearchAttributeType {
    type Err = ParseTypeError;

    /// Accepts the names case-insensitively, plus the protobuf spelling
    /// (`INDEXED_VALUE_TYPE_KEYWORD_LIST`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t
            .get(..18)
            .filter(|p| p.eq_ignore_ascii_case("INDEXED_VALUE_TYPE"))
            .map_or(t, |_| &t[19.min(t.len())..]);
        let squashed: String = t.chars().filter(|&c| c != '_').collect();
        Self::ALL
            .into_iter()
            .find(|ty| ty.name().eq_ignore_ascii_case(&squashed))
            .ok_or_else(|| ParseTypeError(s.to_owned()))
    }
}

/// A system field the evaluator reads from dedicated [`Record`](crate::Record) methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum SystemField {
    WorkflowId,
    RunId,
    WorkflowType,
    ExecutionStatus,
    StartTime,
    ExecutionTime,
    CloseTime,
    HistoryLength,
    ExecutionDuration,
    /// A system column the `Record` trait does not expose: always missing.
    Unexposed,
}

use SearchAttributeType as T;

impl SystemField {
    /// The attribute's name; `None` for [`SystemField::Unexposed`], which no record holds.
    pub(crate) fn name(self) -> Option<&'static str> {
        if self == SystemField::Unexposed {
            return None;
        }
        SYSTEM
            .iter()
            .find(|(_, _, field)| *field == self)
            .map(|(name, _, _)| *name)
    }
}

/// Temporal's system attributes: dedicated columns, not settable by users.
const SYSTEM: &[(&str, SearchAttributeType, SystemField)] = &[
    ("WorkflowId", T::Keyword, SystemField::WorkflowId),
    ("RunId", T::Keyword, SystemField::RunId),
    ("WorkflowType", T::Keyword, SystemField::WorkflowType),
    ("StartTime", T::Datetime, SystemField::StartTime),
    ("ExecutionTime", T::Datetime, SystemField::ExecutionTime),
    ("CloseTime", T::Datetime, SystemField::CloseTime),
    ("ExecutionStatus", T::Keyword, SystemField::ExecutionStatus),
    ("TaskQueue", T::Keyword, SystemField::Unexposed),
    ("HistoryLength", T::Int, SystemField::HistoryLength),
    ("ExecutionDuration", T::Int, SystemField::ExecutionDuration),
    ("StateTransitionCount", T::Int, SystemField::Unexposed),
    ("HistorySizeBytes", T::Int, SystemField::Unexposed),
    ("ParentWorkflowId", T::Keyword, SystemField::Unexposed),
    ("ParentRunId", T::Keyword, SystemField::Unexposed),
    ("RootWorkflowId", T::Keyword, SystemField::Unexposed),
    ("RootRunId", T::Keyword, SystemField::Unexposed),
];

/// Temporal's predefined attributes: stored with the custom ones, queryable everywhere.
pub(crate) const PREDEFINED: &[(&str, SearchAttributeType)] = &[
    ("TemporalChangeVersion", T::KeywordList),
    ("BinaryChecksums", T::KeywordList),
    ("BuildIds", T::KeywordList),
    ("BatcherNamespace", T::Keyword),
    ("BatcherUser", T::Keyword),
    ("TemporalScheduledStartTime", T::Datetime),
    ("TemporalScheduledById", T::Keyword),
    ("TemporalSchedulePaused", T::Bool),
    ("TemporalNamespaceDivision", T::Keyword),
    ("TemporalPauseInfo", T::KeywordList),
    ("TemporalReportedProblems", T::KeywordList),
    ("TemporalWorkerDeploymentVersion", T::Keyword),
    ("TemporalWorkflowVersioningBehavior", T::Keyword),
    ("TemporalWorkerDeployment", T::Keyword),
    ("TemporalUsedWorkerDeploymentVersions", T::KeywordList),
    ("TemporalExternalPayloadCount", T::Int),
    ("TemporalExternalPayloadSizeBytes", T::Int),
];

/// How many preallocated columns of each type a store has (for example
/// `Keyword01..Keyword10`), for stores where custom attributes are aliases of
/// fixed fields.
///
/// ```
/// use visibility_query::{FieldLayout, SearchAttributeType};
/// let l = FieldLayout::temporal_sql();
/// assert_eq!(l.limit(SearchAttributeType::Keyword), 10);
/// assert_eq!(l.limit(SearchAttributeType::Int), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldLayout {
    limits: BTreeMap<SearchAttributeType, u8>,
}

impl FieldLayout {
    /// No fields of any type; add them with [`with_limit`](Self::with_limit).
    pub fn empty() -> Self {
        FieldLayout {
            limits: BTreeMap::new(),
        }
    }

    /// Temporal's SQL schema: 3 of each type, except 10 Keyword columns.
    pub fn temporal_sql() -> Self {
        let mut l = Self::empty();
        for ty in SearchAttributeType::ALL {
            l = l.with_limit(ty, if ty == T::Keyword { 10 } else { 3 });
        }
        l
    }

    /// Sets the number of fields of `ty` (at most 99, as in `Keyword99`).
    pub fn with_limit(mut self, ty: SearchAttributeType, count: u8) -> Self {
        self.limits.insert(ty, count.min(99));
        self
    }

    /// The number of fields of `ty`.
    pub fn limit(&self, ty: SearchAttributeType) -> u8 {
        self.limits.get(&ty).copied().unwrap_or(0)
    }

    /// The type of a field name such as `Int02`, if the layout has it.
    fn field_type(&self, field: &str) -> Option<SearchAttributeType> {
        let prefix = field.get(..field.len().checked_sub(2)?)?;
        let digits = &field[prefix.len()..];
        let n: u8 = digits
            .parse()
            .ok()
            .filter(|_| digits.bytes().all(|b| b.is_ascii_digit()))?;
        let ty = SearchAttributeType::ALL
            .into_iter()
            .find(|t| t.name() == prefix)?;
        (n >= 1 && n <= self.limit(ty)).then_some(ty)
    }
}

/// A custom search attribute of a namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomAttribute {
    /// The name users write in filters (the alias, for stores with preallocated fields).
    pub name: String,
    /// Its type.
    pub ty: SearchAttributeType,
    /// The preallocated field holding its values (`Keyword03`), for stores with a [`FieldLayout`].
    pub field: Option<String>,
}

/// Where a newly created attribute's values go, and whom the field served before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldAssignment {
    /// The preallocated field, or `None` when the set has no [`FieldLayout`].
    pub field: Option<String>,
    /// Attributes that used this field before and were removed. Records archived
    /// while they existed still carry their values in this field, and a query on
    /// the new attribute would read them as its own: the field-reuse hazard.
    pub previously_used_by: Vec<String>,
}

/// Why a custom attribute could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttributeError {
    /// The name belongs to a system or predefined attribute, or starts with `Temporal`.
    #[error("Search attribute {0} is reserved by system.")]
    Reserved(String),
    /// The name is empty.
    #[error("search attribute name must not be empty")]
    EmptyName,
    /// The name already exists (with this type).
    #[error("search attribute {0} already exists with type {1}")]
    AlreadyExists(String, SearchAttributeType),
    /// No free preallocated field of this type.
    #[error(
        "Unable to create search attributes: cannot have more than {0} search attribute of type {1}."
    )]
    NoFreeField(u8, SearchAttributeType),
}

/// Search attributes a filter may name: system + predefined + the namespace's custom ones.
///
/// ```
/// use visibility_query::{SearchAttributes, SearchAttributeType as T};
/// let attrs = SearchAttributes::new().with_custom("CustomerId", T::Keyword);
/// assert_eq!(attrs.get("CustomerId"), Some(T::Keyword));
/// assert_eq!(attrs.get("CloseTime"), Some(T::Datetime));
/// assert_eq!(attrs.get("ScheduleId"), Some(T::Keyword)); // alias of WorkflowId
/// assert_eq!(attrs.get("closeTime"), None); // names are case-sensitive
/// ```
#[derive(Debug, Clone, Default)]
pub struct SearchAttributes {
    custom: BTreeMap<String, CustomAttribute>,
    layout: Option<FieldLayout>,
    /// field -> names of removed attributes that used it.
    retired: BTreeMap<String, Vec<String>>,
}

/// A name resolved to what the checker and evaluator need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resolved<'a> {
    /// The canonical name (the system name for aliases like `ScheduleId`).
    pub(crate) name: Name<'a>,
    pub(crate) ty: SearchAttributeType,
    /// `Some` for system columns; `None` for attributes read via `Record::search_attribute(name)`.
    pub(crate) system: Option<SystemField>,
}

/// A resolved name, borrowed so that resolving never allocates: the checker
/// keeps a `'static` name as is and copies (or moves) only a custom one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Name<'a> {
    /// A system or predefined name.
    Static(&'static str),
    /// A custom attribute's name.
    Custom(&'a str),
    /// The name as written: a preallocated field no custom attribute uses.
    Written,
}

impl<'a> Name<'a> {
    /// The name, given the name as written.
    pub(crate) fn as_str<'w>(&self, written: &'w str) -> &'w str
    where
        'a: 'w,
    {
        match *self {
            Name::Static(s) => s,
            Name::Custom(s) => s,
            Name::Written => written,
        }
    }
}

impl SearchAttributes {
    /// System and predefined attributes only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses preallocated fields: every custom attribute created from now on is
    /// assigned a free field of its type, and the type's limit applies.
    pub fn with_field_layout(mut self, layout: FieldLayout) -> Self {
        self.layout = Some(layout);
        self
    }

    /// Adds a custom attribute (builder). Never fails: a reserved or duplicate
    /// name, or a full field layout, leaves the set unchanged; use
    /// [`try_with_custom`](Self::try_with_custom) to learn why.
    pub fn with_custom(self, name: impl Into<String>, ty: SearchAttributeType) -> Self {
        let mut s = self;
        let _ignored = s.create(name, ty);
        s
    }

    /// Adds a custom attribute (builder) or says why it cannot.
    pub fn try_with_custom(
        mut self,
        name: impl Into<String>,
        ty: SearchAttributeType,
    ) -> Result<Self, AttributeError> {
        self.create(name, ty)?;
        Ok(self)
    }

    /// Creates a custom attribute, assigning a preallocated field when the set has a layout.
    ///
    /// ```
    /// use visibility_query::{FieldLayout, SearchAttributes, SearchAttributeType as T};
    /// let mut attrs = SearchAttributes::new().with_field_layout(FieldLayout::temporal_sql());
    /// assert_eq!(attrs.create("Region", T::Keyword).unwrap().field.as_deref(), Some("Keyword01"));
    /// attrs.remove("Region");
    /// let again = attrs.create("Tenant", T::Keyword).unwrap();
    /// assert_eq!(again.field.as_deref(), Some("Keyword01"));
    /// assert_eq!(again.previously_used_by, ["Region"]); // old records' Region values now read as Tenant
    /// ```
    pub fn create(
        &mut self,
        name: impl Into<String>,
        ty: SearchAttributeType,
    ) -> Result<FieldAssignment, AttributeError> {
        let name = name.into();
        if name.is_empty() {
            return Err(AttributeError::EmptyName);
        }
        if name.starts_with("Temporal") || system(&name).is_some() || predefined(&name).is_some() {
            return Err(AttributeError::Reserved(name));
        }
        if let Some(existing) = self.custom.get(&name) {
            return Err(AttributeError::AlreadyExists(name, existing.ty));
        }
        let field = match &self.layout {
            None => None,
            Some(layout) => {
                let limit = layout.limit(ty);
                let free = (1..=limit)
                    .map(|i| format!("{}{i:02}", ty.name()))
                    .find(|f| !self.custom.values().any(|c| c.field.as_deref() == Some(f)));
                Some(free.ok_or(AttributeError::NoFreeField(limit, ty))?)
            }
        };
        let previously_used_by = field
            .as_ref()
            .and_then(|f| self.retired.get(f))
            .cloned()
            .unwrap_or_default();
        self.custom.insert(
            name.clone(),
            CustomAttribute {
                name,
                ty,
                field: field.clone(),
            },
        );
        Ok(FieldAssignment {
            field,
            previously_used_by,
        })
    }

    /// Removes a custom attribute. Its field (if any) becomes free and remembers
    /// the name, so a later [`create`](Self::create) reports the reuse.
    pub fn remove(&mut self, name: &str) -> Option<CustomAttribute> {
        let removed = self.custom.remove(name)?;
        if let Some(f) = &removed.field {
            self.retired
                .entry(f.clone())
                .or_default()
                .push(removed.name.clone());
        }
        Some(removed)
    }

    /// The custom attributes, by name.
    pub fn custom(&self) -> impl Iterator<Item = &CustomAttribute> {
        self.custom.values()
    }

    /// The type of a name as a filter would resolve it (aliases included), or `None` if unknown.
    pub fn get(&self, name: &str) -> Option<SearchAttributeType> {
        self.resolve(name).map(|r| r.ty)
    }

    /// Resolution order of Temporal's unified converter, plus the
    /// archivers' `WorkflowTypeName`.
    pub(crate) fn resolve(&self, name: &str) -> Option<Resolved<'_>> {
        if let Some(r) = self.direct(name) {
            return Some(r);
        }
        let special = match name {
            "ScheduleId" | "TemporalScheduleId" => Some("WorkflowId"),
            "WorkflowTypeName" => Some("WorkflowType"),
            _ => None,
        };
        if let Some(target) = special {
            return self.direct(target);
        }
        match name.strip_prefix("Temporal") {
            Some(rest) if system(rest).is_some() || predefined(rest).is_some() => self.direct(rest),
            Some(_) => None,
            // `WorkerDeployment` for `TemporalWorkerDeployment`, without building the prefixed name.
            None => PREDEFINED
                .iter()
                .find(|(n, _)| n.strip_prefix("Temporal") == Some(name))
                .map(|&(n, ty)| Resolved {
                    name: Name::Static(n),
                    ty,
                    system: None,
                }),
        }
    }

    fn direct(&self, name: &str) -> Option<Resolved<'_>> {
        if let Some((n, ty, f)) = system(name) {
            return Some(Resolved {
                name: Name::Static(n),
                ty,
                system: Some(f),
            });
        }
        if let Some((n, ty)) = predefined(name) {
            return Some(Resolved {
                name: Name::Static(n),
                ty,
                system: None,
            });
        }
        if let Some(c) = self.custom.get(name) {
            return Some(Resolved {
                name: Name::Custom(&c.name),
                ty: c.ty,
                system: None,
            });
        }
        // A raw preallocated field name is queryable too; records carry values under the alias.
        let ty = self.layout.as_ref()?.field_type(name)?;
        let alias = self
            .custom
            .values()
            .find(|c| c.field.as_deref() == Some(name));
        Some(Resolved {
            name: alias.map_or(Name::Written, |c| Name::Custom(&c.name)),
            ty,
            system: None,
        })
    }
}

fn system(name: &str) -> Option<(&'static str, SearchAttributeType, SystemField)> {
    // Every system name starts with an upper-case letter; most user names fail here.
    if !name.as_bytes().first().is_some_and(u8::is_ascii_uppercase) {
        return None;
    }
    SYSTEM
        .iter()
        .find(|(n, _, _)| n.len() == name.len() && *n == name)
        .copied()
}

fn predefined(name: &str) -> Option<(&'static str, SearchAttributeType)> {
    PREDEFINED
        .iter()
        .find(|(n, _)| n.len() == name.len() && *n == name)
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve() {
        let a = SearchAttributes::new();
        assert_eq!(
            a.resolve("TemporalScheduleId")
                .unwrap()
                .name
                .as_str("TemporalScheduleId"),
            "WorkflowId"
        );
        assert_eq!(
            a.resolve("WorkflowTypeName")
                .unwrap()
                .name
                .as_str("WorkflowTypeName"),
            "WorkflowType"
        );
        assert_eq!(
            a.resolve("TemporalBuildIds")
                .unwrap()
                .name
                .as_str("TemporalBuildIds"),
            "BuildIds"
        );
        assert_eq!(
            a.resolve("WorkerDeployment")
                .unwrap()
                .name
                .as_str("WorkerDeployment"),
            "TemporalWorkerDeployment"
        );
        assert_eq!(
            a.resolve("TemporalWorkflowId")
                .unwrap()
                .name
                .as_str("TemporalWorkflowId"),
            "WorkflowId"
        );
        assert!(a.resolve("workflowid").is_none());
        assert!(a.resolve("TemporalSystemExecutionStatus").is_none());
    }

    #[test]
    fn reserved_and_limits() {
        let mut a = SearchAttributes::new().with_field_layout(FieldLayout::temporal_sql());
        assert_eq!(
            a.create("TemporalFoo", T::Int),
            Err(AttributeError::Reserved("TemporalFoo".into()))
        );
        assert_eq!(
            a.create("RunId", T::Int),
            Err(AttributeError::Reserved("RunId".into()))
        );
        for n in ["A", "B", "C"] {
            a.create(n, T::Int).unwrap();
        }
        assert_eq!(
            a.create("D", T::Int),
            Err(AttributeError::NoFreeField(3, T::Int))
        );
        assert_eq!(a.get("Int02"), Some(T::Int));
        assert_eq!(a.resolve("Int02").unwrap().name.as_str("Int02"), "B");
        assert_eq!(a.get("Int04"), None);
        assert_eq!(a.get("Keyword10"), Some(T::Keyword));
        // An unused field resolves to itself, as written.
        assert_eq!(
            a.resolve("Keyword10").unwrap().name.as_str("Keyword10"),
            "Keyword10"
        );
        assert!(a.create("A", T::Int).is_err());
        assert_eq!(a.custom().count(), 3);
    }

    #[test]
    fn type_names() {
        for t in SearchAttributeType::ALL {
            assert_eq!(t.name().parse::<SearchAttributeType>(), Ok(t));
        }
        assert_eq!(
            "keyword_list".parse::<SearchAttributeType>(),
            Ok(T::KeywordList)
        );
        assert_eq!(
            "INDEXED_VALUE_TYPE_DATETIME".parse::<SearchAttributeType>(),
            Ok(T::Datetime)
        );
        assert!("Float".parse::<SearchAttributeType>().is_err());
    }
}
