//! Systems Manager: aws_ssm_parameter. This file holds what its types share.

use crate::error::OrSdk;
use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ssm::types as t;
use terrane_core::{Diagnostic, Value};

use crate::config::Clients;
use crate::error::AwsError;
use crate::resources::kind::{AwsResource, Listed, Planning};
use crate::resources::lifecycle::{read_back, read_each};
use crate::resources::value::{changed, num, opt_s, put, str_of, string_of, text_of};
use crate::tags;

pub struct Parameter;

tag_api! { read fn read_tags = ssm: list_tags_for_resource
[resource_type(t::ResourceTypeForTagging::Parameter)].resource_id => "ListTagsForResource", tag_list }
tag_api! { sync fn sync_tags = ssm:
remove_tags_from_resource[resource_type(t::ResourceTypeForTagging::Parameter)].resource_id =>
"RemoveTagsFromResource", add_tags_to_resource[resource_type(t::ResourceTypeForTagging::Parameter)]
.resource_id => "AddTagsToResource", crate::tags::to_sdk }

mod parameter;
