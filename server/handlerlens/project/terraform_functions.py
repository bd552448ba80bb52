"""Terraform function declarations: a `yandex_function` or `aws_lambda_function` resource, and
the `terraform-aws-modules/lambda/aws` module call, each read into a FunctionSpec with its code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handlerlens.core.model import FunctionSpec, PlatformName
from handlerlens.core.problems import Problem
from handlerlens.project import hcl_tree as hcl
from handlerlens.project.config_problems import unresolved
from handlerlens.project.terraform_code import Code, CodeLocator
from handlerlens.project.terraform_files import (
    FUNCTION_RESOURCES,
    TerraformFile,
    attr_in,
    literal_bool,
    short,
)
from handlerlens.project.terraform_triggers import arn_trigger
from handlerlens.project.values import is_python_runtime, to_megabytes, to_seconds


@dataclass
class DeclaredFunction:
    """A function block read, before the module's triggers are linked to it."""

    key: tuple[str, str]  # ("aws_lambda_function" | "yandex_function" | "module", label)
    spec: FunctionSpec
    code: Code
    triggers: list[str] = field(default_factory=list)  # declared in the block itself


class FunctionReader(CodeLocator):
    """A module's reader of function resources and Lambda module calls."""

    def _function(
        self, f: TerraformFile, kind: str, label: str, block: hcl.HclBlock, problems: list[Problem]
    ) -> DeclaredFunction | None:
        platform, handler_key, name_key, timeout_key, memory_key = FUNCTION_RESOURCES[kind]
        attrs = block.attributes
        if "image_uri" in attrs or block.block("image") is not None:
            return None
        env_attr = attrs.get("environment") if platform == "yandex" else None
        if platform == "aws":
            env_attr = attr_in(block.block("environment"), "variables")
        spec = self._spec(
            f,
            f"{kind}.{label}",
            label,
            platform,
            handler=attrs.get(handler_key),
            handler_key=handler_key,
            runtime=attrs.get("runtime"),
            name=attrs.get(name_key),
            timeout=attrs.get(timeout_key),
            memory=attrs.get(memory_key),
            env=env_attr,
            problems=problems,
        )
        if spec is None:
            return None
        code = self._function_code(f, f"{kind}.{label}", platform, block)
        if code.skip:
            problems += code.problems
            return None
        return DeclaredFunction((kind, label), spec, code)

    def _spec(
        self,
        f: TerraformFile,
        what: str,
        label: str,
        platform: PlatformName,
        *,
        handler: hcl.HclAttribute | None,
        handler_key: str,
        runtime: hcl.HclAttribute | None,
        name: hcl.HclAttribute | None,
        timeout: hcl.HclAttribute | None,
        memory: hcl.HclAttribute | None,
        env: hcl.HclAttribute | None,
        problems: list[Problem],
    ) -> FunctionSpec | None:
        if handler is None:
            return None
        entry = self.value(f, handler.expr)
        # Only a literal (here, or where a variable or local is set) can be shown and fixed
        # in place; a template such as "${var.module}.handler" stays Terraform's. One a
        # `for_each` instance fills in (`"${each.key}.handler"`) is shown, never rewritten.
        per_instance = (
            entry is not None
            and not entry.verbatim
            and self.each is not None
            and entry.path == f.path
            and "each." in f.source(handler)
        )
        if entry is None or entry.path is None or entry.span is None:
            per_instance = False
        if (
            entry is None
            or entry.path is None
            or entry.span is None
            or not (entry.verbatim or per_instance)
        ):
            problems.append(
                unresolved(
                    f.path,
                    f.span(handler.start, handler.end),
                    f"The {handler_key} of {what} is computed by Terraform "
                    f"(`{short(f.source(handler))}`), so HandlerLens cannot check or run it; "
                    "write it as a literal string.",
                )
            )
            return None
        runtime_val = self.attr_value(f, runtime)
        if runtime_val is not None and not is_python_runtime(runtime_val.text):
            return None
        name_val = self.attr_value(f, name)
        environment = {}
        for key, node in hcl.object_items(env.expr) if env is not None else []:
            # Literals only: the values matter to the runner, not to the checks, and
            # following `var.*` here would parse every variables.tf.
            text = hcl.scalar_text(node, f.text)
            if text is not None:
                environment[key] = text
        runtime_elsewhere = runtime_val is not None and runtime_val.path != entry.path
        return FunctionSpec(
            name=name_val.text if name_val is not None and name_val.text else self.name(label),
            platform=platform,
            entry=entry.text,
            root=self.dir,
            declared_by="terraform",
            entry_editable=not per_instance,
            declared_in=entry.path,
            entry_span=entry.span,
            runtime=runtime_val.text if runtime_val is not None else None,
            runtime_span=runtime_val.span if runtime_val is not None else None,
            runtime_declared_in=runtime_val.path if runtime_elsewhere and runtime_val else None,
            timeout=to_seconds(self._number(f, timeout)),
            memory=to_megabytes(self._number(f, memory)),
            env=environment,
        )

    def name(self, label: str) -> str:
        return f"{self.name_prefix}{label}" if self.name_prefix else label

    def _number(self, f: TerraformFile, attr: hcl.HclAttribute | None) -> float | str | None:
        found = self.attr_value(f, attr)
        if found is None:
            return None
        try:
            number = float(found.text)
        except ValueError:
            return found.text
        return int(number) if number.is_integer() else number

    def _lambda_module(
        self, f: TerraformFile, label: str, block: hcl.HclBlock, problems: list[Problem]
    ) -> DeclaredFunction | None:
        """`module "x" { source = "terraform-aws-modules/lambda/aws" … }`: one AWS function."""
        attrs = block.attributes
        for flag in ("create", "create_function"):
            if literal_bool(f, attrs.get(flag)) is False:
                return None
        package_type = self.attr_value(f, attrs.get("package_type"))
        if "image_uri" in attrs or (package_type is not None and package_type.text == "Image"):
            return None
        what = f"module.{label}"
        spec = self._spec(
            f,
            what,
            label,
            "aws",
            handler=attrs.get("handler"),
            handler_key="handler",
            runtime=attrs.get("runtime"),
            name=attrs.get("function_name"),
            timeout=attrs.get("timeout"),
            memory=attrs.get("memory_size"),
            env=attrs.get("environment_variables"),
            problems=problems,
        )
        if spec is None:
            return None
        if literal_bool(f, attrs.get("create_package")) is False:
            existing = attrs.get("local_existing_package")
            if existing is not None:
                code = self._artifact_code(f, what, existing)
            elif "s3_existing_package" in attrs:
                code = self._bucket_code(f, what, attrs.get("s3_existing_package"), None)
            else:
                code = Code()
        else:
            code = self._source_path_code(f, what, attrs.get("source_path"))
        if code.skip:
            problems += code.problems
            return None
        # The module's own triggers: event source mappings, and a function URL.
        found = []
        mappings = attrs.get("event_source_mapping")
        for _, mapping in hcl.object_items(mappings.expr) if mappings is not None else []:
            arn = dict(hcl.object_items(mapping)).get("event_source_arn")
            trigger = arn_trigger(f, arn) if arn is not None else None
            if trigger is not None:
                found.append(trigger)
        if literal_bool(f, attrs.get("create_lambda_function_url")):
            found.append("function-url")
        return DeclaredFunction(("module", label), spec, code, found)
