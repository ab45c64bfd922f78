//! The contract of one AWS resource type ([`AwsResource`]) and of one data source ([`AwsData`]).
//! `lib.rs` adapts them to the engine's `Provider` trait.

use async_trait::async_trait;
use terrane_core::{AttrPath, Diagnostic, ResourceSchema, Value};

use crate::config::Clients;
use crate::error::Result;
use crate::resources::schemas;
use crate::resources::tagging::SyncTags;
use crate::resources::value::text_of;

/// One object found by [`AwsResource::list`].
#[derive(Debug, Clone)]
pub struct Listed {
    pub state: Value,
    /// Made by AWS itself (the default VPC, its subnets and internet gateway, a VPC's main
    /// route table and default security group): reported, never deleted.
    pub is_default: bool,
}

impl Listed {
    pub fn new(state: Value) -> Self {
        Listed {
            state,
            is_default: false,
        }
    }
    pub fn made_by_aws(state: Value, is_default: bool) -> Self {
        Listed { state, is_default }
    }
}

/// One row of the table: a type's name and what discovery and deletion order know of it, as
/// data, beside the code that does its calls ([`AwsResource`]).
pub struct Kind {
    name: &'static str,
    taggable: bool,
    tagging_type: Option<(&'static str, &'static str)>,
    references: &'static [(&'static str, &'static str)],
    delete_after: &'static [(&'static str, &'static str)],
    listed_on_request_only: bool,
    tags_by: Option<(&'static str, SyncTags)>,
    ops: Box<dyn AwsResource>,
}

impl Kind {
    pub fn new(name: &'static str, ops: impl AwsResource + 'static) -> Kind {
        Kind {
            name,
            taggable: true,
            tagging_type: None,
            references: &[],
            delete_after: &[],
            listed_on_request_only: false,
            tags_by: None,
            ops: Box::new(ops),
        }
    }
    /// Covered by the Resource Groups Tagging API, under this service and resource type.
    pub fn tagging(mut self, service: &'static str, resource_type: &'static str) -> Kind {
        self.tagging_type = Some((service, resource_type));
        self
    }
    pub fn refs(mut self, references: &'static [(&'static str, &'static str)]) -> Kind {
        self.references = references;
        self
    }
    pub fn after(mut self, types: &'static [(&'static str, &'static str)]) -> Kind {
        self.delete_after = types;
        self
    }
    /// Has no `tags` / `tags_all`.
    pub fn untagged(mut self) -> Kind {
        self.taggable = false;
        self
    }
    /// See [`Kind::listed_on_request_only`].
    pub fn on_request_only(mut self) -> Kind {
        self.listed_on_request_only = true;
        self
    }
    /// The service's tagging adapter (`tag_api!`'s sync function) and the attribute that names
    /// the object to it (`arn`, `name`): the type updates through [`Kind::update`].
    pub fn tags_by(mut self, attribute: &'static str, sync: SyncTags) -> Kind {
        self.tags_by = Some((attribute, sync));
        self
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
    /// The type's schema: `schema/resources/<name>.json` ([`crate::resources::schemas`]).
    pub fn schema(&self) -> ResourceSchema {
        schemas::resource(self.name).unwrap_or_else(|e| panic!("{e}"))
    }
    /// Has `tags` / `tags_all` (default_tags apply); the provider adds both to the schema.
    pub fn taggable(&self) -> bool {
        self.taggable
    }
    /// Attributes of this type's state that hold the id, ARN or name of another object, with
    /// that object's type: `("vpc_id", "aws_vpc")`, or a path into nested blocks such as
    /// `("default_action.target_group_arn", "aws_lb_target_group")`. A discovered object carries
    /// them as references, and is deleted before what they point at.
    pub fn references(&self) -> &'static [(&'static str, &'static str)] {
        self.references
    }
    /// Types every object of which is deleted before any object of this type, where no
    /// reference says so, each with the reason.
    pub fn delete_after(&self) -> &'static [(&'static str, &'static str)] {
        self.delete_after
    }
    /// The service and resource type that this type's ARNs carry (`("ec2", "vpc")`) where the
    /// Resource Groups Tagging API covers it: discovery by tags then asks that API first.
    pub fn tagging_type(&self) -> Option<(&'static str, &'static str)> {
        self.tagging_type
    }
    /// Objects of this type are also inline blocks of another type (routes of a route table,
    /// rules of a security group) and indistinguishable from them in the API: discovery lists
    /// them only when asked for this type by name, and deleting their parent deletes them.
    pub fn listed_on_request_only(&self) -> bool {
        self.listed_on_request_only
    }

    /// Changes an object in place to `planned`. Where the row names a tagging adapter
    /// ([`Kind::tags_by`]), the generic update: the type's [`AwsResource::modify`], the tags
    /// made the planned `tags_all`, and the object read back by its `id` with every attribute;
    /// otherwise the type's own [`AwsResource::update`].
    pub async fn update(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<Value> {
        let Some((attribute, sync)) = self.tags_by else {
            return self.ops.update(cx, prior, planned).await;
        };
        self.ops.modify(cx, prior, planned).await?;
        sync(cx, text_of(prior, attribute), prior, planned).await?;
        let id = text_of(prior, "id");
        read_back(&*self.ops, cx, id, planned).await
    }
}

impl std::ops::Deref for Kind {
    type Target = dyn AwsResource;
    fn deref(&self) -> &(dyn AwsResource + 'static) {
        &*self.ops
    }
}

/// What [`AwsResource::adjust_plan`] sees of a plan, and may change.
/// An object found by a lookup (its state), or `None` when there is none.
pub type Found = Result<Option<Value>>;

pub struct Planning<'a> {
    pub prior: Option<&'a Value>,
    pub config: &'a Value,
    pub planned: &'a mut Value,
    /// Attributes whose change replaces the object, beside the schema's `force_new` ones.
    pub requires_replace: &'a mut Vec<AttrPath>,
}

/// The calls of one resource type; its name and the rest of what the table says of it are
/// its [`Kind`].
#[async_trait]
pub trait AwsResource: Send + Sync {
    fn validate(&self, _config: &Value) -> Vec<Diagnostic> {
        Vec::new()
    }
    /// Resource-specific touches to the schema's default plan.
    fn adjust_plan(&self, _p: Planning<'_>) {}
    /// Every object of this type in the account and region, as state values (at least `id`,
    /// the tags and the attributes [`Kind::references`] names), paginated.
    async fn list(&self, cx: &Clients) -> Result<Vec<Listed>>;
    async fn create(&self, cx: &Clients, planned: &Value, token: &str) -> Result<Value>;
    /// `None` when the object no longer exists.
    async fn read(&self, cx: &Clients, id: &str, prior: &Value) -> Result<Option<Value>>;
    /// How many objects one [`AwsResource::read_many`] describes, where the API takes many
    /// ids (or an id filter) in one call; `None`: one `read` each.
    fn read_batch(&self) -> Option<usize> {
        None
    }
    /// Reads many objects as `read` would each, in the order of `priors` (`None`: gone).
    async fn read_many(&self, cx: &Clients, priors: &[&Value]) -> Result<Vec<Option<Value>>> {
        read_one_by_one(self, cx, priors).await
    }
    /// Changes an object in place to `planned`, for a type whose row names no tagging adapter
    /// ([`Kind::tags_by`]); a row that names one updates through [`Kind::update`], and its type
    /// writes only [`AwsResource::modify`]. By default `modify`, then the object read back by
    /// its `id`. A type whose update is more than that (a wait until the change has settled, a
    /// new revision, a write that answers with the whole object) writes its own.
    async fn update(&self, cx: &Clients, prior: &Value, planned: &Value) -> Result<Value> {
        self.modify(cx, prior, planned).await?;
        read_back(self, cx, text_of(prior, "id"), planned).await
    }
    /// The calls of an update that change what it changes beside the tags; none by default
    /// (every other argument replaces the object).
    async fn modify(&self, _cx: &Clients, _prior: &Value, _planned: &Value) -> Result<()> {
        Ok(())
    }
    async fn delete(&self, cx: &Clients, state: &Value) -> Result<()>;
    /// Finds an object whose create was interrupted, by the token tag put on it at creation.
    async fn find_by_token(&self, _cx: &Clients, _token: &str, _planned: &Value) -> Found {
        Ok(None)
    }
}

/// One data source of the table: its name and its read.
pub struct DataKind {
    name: &'static str,
    ops: Box<dyn AwsData>,
}

impl DataKind {
    pub fn new(name: &'static str, ops: impl AwsData + 'static) -> DataKind {
        DataKind {
            name,
            ops: Box::new(ops),
        }
    }
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// The data source's schema: `schema/data/<name>.json`.
    pub fn schema(&self) -> ResourceSchema {
        schemas::data(self.name).unwrap_or_else(|e| panic!("{e}"))
    }
}

impl std::ops::Deref for DataKind {
    type Target = dyn AwsData;
    fn deref(&self) -> &(dyn AwsData + 'static) {
        &*self.ops
    }
}

#[async_trait]
pub trait AwsData: Send + Sync {
    async fn read(&self, cx: &Clients, config: &Value) -> Result<Value>;
}

/// The object `id` names as `kind.read` has it right after a create or update made it so:
/// read-back with every schema attribute, `planned` standing in for the prior state. An object
/// gone at that point is an error, not an absence.
pub async fn read_back<K: AwsResource + ?Sized>(
    kind: &K,
    cx: &Clients,
    id: &str,
    planned: &Value,
) -> Result<Value> {
    kind.read(cx, id, planned)
        .await?
        .ok_or_else(|| crate::error::vanished("Read", "the object", id))
}

/// One [`AwsResource::read`] per prior, by its `id`: what a type without a batched read does.
pub async fn read_one_by_one<K: AwsResource + ?Sized>(
    kind: &K,
    cx: &Clients,
    priors: &[&Value],
) -> Result<Vec<Option<Value>>> {
    let mut out = Vec::with_capacity(priors.len());
    for p in priors {
        let id = p.get("id").and_then(Value::as_str).unwrap_or_default();
        out.push(kind.read(cx, id, p).await?);
    }
    Ok(out)
}
