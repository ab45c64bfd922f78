"""Starts moto's server (moto[server]==5.2.5) with a few small, documented extensions.

moto 5.2.5 lacks pieces of ElastiCache that Terrane's AWS provider uses (see
../shared/notes/moto.md). Rather than special-casing the emulator in the provider or weakening
tests, this launcher adds them before serving, each as AWS documents the operation:

1. DeleteCacheSubnetGroup (moto: 500 NotImplemented). AWS deletes the group, or answers
   CacheSubnetGroupInUse while a replication group still uses it, or CacheSubnetGroupNotFoundFault.
2. ModifyCacheSubnetGroup (moto: 500 NotImplemented). AWS replaces the subnet list and/or
   description and returns the group.
3. Deletion finishes. moto leaves a deleted replication group in `deleting` forever; on AWS it
   disappears after a while (DescribeReplicationGroups then answers ReplicationGroupNotFoundFault).
   Here it disappears at the first describe after the delete.

4. AddClientIDToOpenIDConnectProvider and RemoveClientIDFromOpenIDConnectProvider (IAM; moto:
   not implemented). AWS adds the client id (a no-op if present) or removes it (a no-op if
   absent).

5. CreateNatGateway honours ClientToken (moto ignores it). AWS: a repeated request with the same
   token returns the gateway the first request created instead of making a second one.

6. EKS TagResource/UntagResource on node groups and Fargate profiles (moto tags clusters only).
   AWS tags any EKS resource by ARN.

7. Deleting a NAT gateway disassociates its Elastic IP (moto keeps the association, so the address
   cannot be given to a new gateway). AWS: "Deleting a NAT gateway disassociates its Elastic IP
   address, but does not release the address from your account."

8. ECR image digests are the SHA-256 of the manifest as pushed (moto hashes the concatenated
   layer digests instead, so two manifests over the same layers would share a digest). AWS: "the
   image digest is the sha256 hash of the image manifest", which is what clients pin.

Usage is the same as moto_server: launch.py -H 127.0.0.1 -p PORT.
"""

import sys

from moto.elasticache import exceptions as ex
from moto.elasticache import models, responses
from moto.core.responses import ActionResult, EmptyResult


class CacheSubnetGroupInUse(ex.ElastiCacheException):
    code = "CacheSubnetGroupInUse"

    def __init__(self, name: str):
        super().__init__(f"Cache subnet group {name} is currently in use by a cache cluster.")


def delete_cache_subnet_group(self, cache_subnet_group_name):
    if cache_subnet_group_name not in self.cache_subnet_groups:
        raise ex.CacheSubnetGroupNotFound(cache_subnet_group_name)
    for rg in self.replication_groups.values():
        if getattr(rg, "cache_subnet_group_name", None) == cache_subnet_group_name:
            raise CacheSubnetGroupInUse(cache_subnet_group_name)
    group = self.cache_subnet_groups.pop(cache_subnet_group_name)
    self.tagging_service.delete_all_tags_for_resource(group.arn)


def modify_cache_subnet_group(self, name, description, subnet_ids):
    if name not in self.cache_subnet_groups:
        raise ex.CacheSubnetGroupNotFound(name)
    old = self.cache_subnet_groups[name]
    new = models.CacheSubnetGroup(
        account_id=self.account_id,
        region_name=self.region_name,
        cache_subnet_group_name=name,
        cache_subnet_group_description=description or old.cache_subnet_group_description,
        subnet_ids=subnet_ids or old.subnet_ids,
        tags=None,
    )
    self.cache_subnet_groups[name] = new
    return new


_describe_replication_groups = models.ElastiCacheBackend.describe_replication_groups


def describe_replication_groups(self, replication_group_id=None):
    for rid in [k for k, v in self.replication_groups.items() if v.status == "deleting"]:
        self.tagging_service.delete_all_tags_for_resource(self.replication_groups[rid].arn)
        del self.replication_groups[rid]
    return _describe_replication_groups(self, replication_group_id)


models.ElastiCacheBackend.delete_cache_subnet_group = delete_cache_subnet_group
models.ElastiCacheBackend.modify_cache_subnet_group = modify_cache_subnet_group
models.ElastiCacheBackend.describe_replication_groups = describe_replication_groups


def _delete_cache_subnet_group(self):
    self.elasticache_backend.delete_cache_subnet_group(self._get_param("CacheSubnetGroupName"))
    return EmptyResult()


def _modify_cache_subnet_group(self):
    group = self.elasticache_backend.modify_cache_subnet_group(
        self._get_param("CacheSubnetGroupName"),
        self._get_param("CacheSubnetGroupDescription"),
        self._get_param("SubnetIds", []),
    )
    return ActionResult({"CacheSubnetGroup": group})


responses.ElastiCacheResponse.delete_cache_subnet_group = _delete_cache_subnet_group
responses.ElastiCacheResponse.modify_cache_subnet_group = _modify_cache_subnet_group

from moto.iam import responses as iam_responses


def _add_client_id(self):
    p = self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
    cid = self._get_param("ClientID")
    if cid not in p.client_id_list:
        p.client_id_list.append(cid)
    return EmptyResult()


def _remove_client_id(self):
    p = self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
    cid = self._get_param("ClientID")
    if cid in p.client_id_list:
        p.client_id_list.remove(cid)
    return EmptyResult()


iam_responses.IamResponse.add_client_id_to_open_id_connect_provider = _add_client_id
iam_responses.IamResponse.remove_client_id_from_open_id_connect_provider = _remove_client_id

from moto.ec2.responses import nat_gateways as nat_responses

_create_nat_gateway = nat_responses.NatGateways.create_nat_gateway


def _create_nat_gateway_idempotent(self):
    token = self._get_param("ClientToken")
    if token:
        for gw in self.ec2_backend.nat_gateways.values():
            if getattr(gw, "_terrane_client_token", None) == token:
                return ActionResult({"NatGateway": gw, "ClientToken": token})
    before = set(self.ec2_backend.nat_gateways)
    result = _create_nat_gateway(self)
    for gid in set(self.ec2_backend.nat_gateways) - before:
        self.ec2_backend.nat_gateways[gid]._terrane_client_token = token
    return result


nat_responses.NatGateways.create_nat_gateway = _create_nat_gateway_idempotent

from moto.eks import models as eks_models

_eks_tag = eks_models.EKSBackend.tag_resource
_eks_untag = eks_models.EKSBackend.untag_resource


def _eks_child(backend, arn):
    for cluster in backend.clusters.values():
        for child in list(cluster.nodegroups.values()) + list(cluster.fargate_profiles.values()):
            if arn in (getattr(child, "arn", None), getattr(child, "fargate_profile_arn", None)):
                return child
    return None


def _eks_tag_any(self, resource_arn, tags):
    child = _eks_child(self, resource_arn)
    if child is None:
        return _eks_tag(self, resource_arn, tags)
    child.tags = {**(child.tags or {}), **tags}


def _eks_untag_any(self, resource_arn, tag_keys):
    child = _eks_child(self, resource_arn)
    if child is None:
        return _eks_untag(self, resource_arn, tag_keys)
    for k in tag_keys if isinstance(tag_keys, list) else [tag_keys]:
        (child.tags or {}).pop(k, None)


eks_models.EKSBackend.tag_resource = _eks_tag_any
eks_models.EKSBackend.untag_resource = _eks_untag_any

from moto.ec2.models import nat_gateways as nat_models

_delete_nat_gateway = nat_models.NatGatewayBackend.delete_nat_gateway


def _delete_nat_gateway_releasing_eip(self, nat_gateway_id):
    gw = _delete_nat_gateway(self, nat_gateway_id)
    for eip in list(self.addresses):
        if eip.eni is not None and eip.eni is getattr(gw, "_eni", None):
            self.disassociate_address(address=eip.public_ip)
    return gw


nat_models.NatGatewayBackend.delete_nat_gateway = _delete_nat_gateway_releasing_eip


import hashlib

from moto.ecr import models as ecr_models


def _ecr_manifest_digest(self):
    manifest = self.image_manifest
    if isinstance(manifest, str):
        manifest = manifest.encode("utf-8")
    self._image_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()


ecr_models.Image._create_digest = _ecr_manifest_digest

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
