"""Uploaded files into SpiffWorkflow specs, or refused with reasons a designer can act on.

Accepted files, told apart by name (a plain file name, no folders):

- `.bpmn` or `.bpmn20.xml`: BPMN 2.0 process diagrams;
- `.dmn`: DMN decision tables for business rule tasks;
- `.json`: task form definitions (see `forms.definitions`).

A bare `.xml` is refused: BPMN and DMN files are checked by different rules, and the suffix is
where the designer says which one a file is meant to be.

The upload comes straight from HTTP, so `parse_bundle` raises only `BadRequest` (no files, bad
names, unsupported types), `PayloadTooLarge` (a file over the cap) or `Invalid` (everything
else, with `details=[{message, line, element_id, file}, ...]`, as many as one pass finds).

Steps: read every file safely (`xml_safety`), check Weft's rules on the XML (what Weft runs, how
expressions are written, user-task conventions, references between files), then let
SpiffWorkflow validate against the BPMN XSD and build the specs. The modules, in that order:

- `bundle`: `parse_bundle`, which runs the steps below;
- `uploads`: file names, types and sizes;
- `form_files`: the `.json` forms;
- `xml_safety`, `documents`: the BPMN and DMN files as XML, and what they may call into;
- `bpmn_checks` (helped by `elements`, `expressions`, `iso_timers`, `lanes`,
  `foreign_extensions` and `service_operations`, which checks service tasks against the
  operation registry) and `dmn_checks`: Weft's rules;
- `normalize`, `spiff_loading`, `process_specs`: Spiff's XSD validation, parsing and specs;
- `problems`: every refusal, as `{message, line, element_id, file}`.
"""

from engine.parsing.bundle import ParsedBundle, parse_bundle
from engine.parsing.process_specs import ParsedProcess
from engine.parsing.uploads import UploadedFile

__all__ = ["ParsedBundle", "ParsedProcess", "UploadedFile", "parse_bundle"]
