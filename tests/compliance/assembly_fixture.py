"""A small cloud assembly on disk, shaped like what ``cdk synth`` writes: one stage with one stack."""

import json
from pathlib import Path
from typing import Any

STACK_PATH = "Dev/Data"
TEMPLATE = "assembly-Dev/DevData.template.json"
ACK_REASON = "Dev runs a single-AZ database by configuration, to save cost."
SKIP_REASON = "This bucket receives the access logs; logging it into itself would never end."


def template(*, bucket_properties: dict[str, Any] | None = None) -> dict[str, Any]:
    logged = {
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
            ]
        },
        "VersioningConfiguration": {"Status": "Enabled"},
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        },
    }
    return {
        "Resources": {
            "Database": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {
                    "DBInstanceClass": "db.t4g.micro",
                    "Engine": "mysql",
                    "AllocatedStorage": "20",
                },
            },
            "Logs": {
                "Type": "AWS::S3::Bucket",
                "Properties": logged,
                "Metadata": {
                    "checkov": {
                        "skip": [
                            {"id": "CKV_AWS_18", "comment": SKIP_REASON},
                            {"id": "CKV_AWS_115", "comment": "Stale: this check is about Lambda functions."},
                        ]
                    }
                },
            },
            "Plain": {"Type": "AWS::S3::Bucket", "Properties": bucket_properties or {}},
        }
    }


def write_assembly(directory: Path, *, bucket_properties: dict[str, Any] | None = None) -> Path:
    """Write the assembly into ``directory`` and return it."""
    nested = directory / "assembly-Dev"
    nested.mkdir(parents=True)
    (directory / "manifest.json").write_text(
        json.dumps(
            {
                "version": "55.0.0",
                "artifacts": {
                    "assembly-Dev": {
                        "type": "cdk:cloud-assembly",
                        "properties": {"directoryName": "assembly-Dev"},
                    }
                },
            }
        )
    )
    (nested / "manifest.json").write_text(
        json.dumps(
            {
                "version": "55.0.0",
                "artifacts": {
                    "DevData": {
                        "type": "aws:cloudformation:stack",
                        "environment": "aws://222222222222/eu-west-1",
                        "properties": {"templateFile": "DevData.template.json"},
                        "additionalMetadataFile": "DevData.metadata.json",
                        "displayName": STACK_PATH,
                    }
                },
            }
        )
    )
    (directory / TEMPLATE).write_text(json.dumps(template(bucket_properties=bucket_properties)))
    (nested / "DevData.metadata.json").write_text(
        json.dumps(
            {
                f"/{STACK_PATH}/Database": [
                    {
                        "type": "aws:cdk:acknowledged-rules",
                        "data": {
                            "Annotation::AwsSolutions-RDS3": ACK_REASON,
                            "Annotation::NIST.800.53.R5-RDSMultiAZSupport": ACK_REASON,
                        },
                    }
                ],
                f"/{STACK_PATH}/Database/Resource": [{"type": "aws:cdk:logicalId", "data": "Database"}],
            }
        )
    )

    def node(path: str, cfn_type: str, fqn: str) -> dict[str, Any]:
        return {
            "id": path.rsplit("/", 1)[-1],
            "path": path,
            "attributes": {"aws:cdk:cloudformation:type": cfn_type, "aws:cdk:cloudformation:logicalId": "x"},
            "constructInfo": {"fqn": fqn},
        }

    tree = {
        "tree": {
            "id": "App",
            "path": "",
            "children": {
                "Dev": {
                    "id": "Dev",
                    "path": "Dev",
                    "children": {
                        "Data": {
                            "id": "Data",
                            "path": STACK_PATH,
                            "children": {
                                "Database": node(
                                    f"{STACK_PATH}/Database/Resource",
                                    "AWS::RDS::DBInstance",
                                    "aws-cdk-lib.aws_rds.CfnDBInstance",
                                ),
                                "Logs": node(
                                    f"{STACK_PATH}/Logs/Resource",
                                    "AWS::S3::Bucket",
                                    "aws-cdk-lib.aws_s3.CfnBucket",
                                ),
                                "Plain": node(
                                    f"{STACK_PATH}/Plain/Resource",
                                    "AWS::S3::Bucket",
                                    "aws-cdk-lib.aws_s3.CfnBucket",
                                ),
                            },
                        }
                    },
                }
            },
        }
    }
    (directory / "tree.json").write_text(json.dumps(tree))
    return directory
