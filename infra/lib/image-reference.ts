/**
 * The `image` setting: a container image reference in the grammar Docker and containerd parse
 * (github.com/distribution/reference), which is what the tasks pull. Anything else registers in ECS
 * as given and fails every task's pull, so the deploy is rolled back by the circuit breaker, then
 * by CloudFormation, onto the revision of the stack's last successful deploy: caught at synth it
 * changes nothing.
 *
 *   reference      := [host[:port]/]path[:tag][@digest]
 *   host           := DNS labels (letters, digits, inner `-`) joined by `.`; it is the first
 *                     component only when that holds a `.` or a `:` or is `localhost` (else it is
 *                     Docker Hub's path, as Docker reads it)
 *   path           := components joined by single `/`, each lower-case letters and digits joined by
 *                     one `.`, one `_`, `__` or any run of `-`
 *   tag            := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest         := sha256: and 64 lower-case hex digits (the only algorithm ECS pins)
 *
 * Stricter than Docker in one way: a first component without `.`, `:` or `localhost` is a path
 * component, so `MyUser/churn-gateway` is refused for its upper case rather than read as a
 * registry host named `MyUser`, which no operator means. An IPv6 registry host is not accepted.
 */
const HOST_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const HOST = `^${HOST_LABEL}(?:\\.${HOST_LABEL})*(?::[0-9]+)?$`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST = 'sha256:[a-f0-9]{64}';
/** Docker's limit on the name (host and path), in characters. */
const NAME_MAX = 255;

/** What `image` takes, as its refusal says it. */
export const IMAGE_REFERENCE_GRAMMAR =
  '[registry host[:port]/]path[:tag][@sha256:<64 hex digits>]: path components of lower-case letters and digits joined by single ".", "_", "__" or "-"s, ' +
  'separated by single "/"; a tag of at most 128 letters, digits, "_", "." and "-", not starting with "." or "-"; e.g. docker.io/<user>/churn-gateway:<git sha>';

/** Why `image` is not an image reference the tasks can pull; undefined when it is one. */
export function imageReferenceProblem(image: string): string | undefined {
  const reason = imageReferenceReason(image);
  return reason === undefined ? undefined : `image "${image}" is not an image reference: ${reason}; it must be ${IMAGE_REFERENCE_GRAMMAR}`;
}

function imageReferenceReason(image: string): string | undefined {
  if (image === '') return 'it is empty';
  const at = image.indexOf('@');
  const withoutDigest = at === -1 ? image : image.slice(0, at);
  if (at !== -1) {
    const digest = image.slice(at + 1);
    if (!new RegExp(`^${DIGEST}$`).test(digest)) return `its digest "${digest}" is not "sha256:" and 64 lower-case hex digits`;
  }
  const lastSlash = withoutDigest.lastIndexOf('/');
  // The tag starts at the first ':' of the last component: a ':' before it belongs to the host's port.
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  const name = colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
  if (colon !== -1) {
    const tag = withoutDigest.slice(colon + 1);
    if (tag === '') return `its tag is empty (nothing after the last ":")`;
    if (!new RegExp(`^${TAG}$`).test(tag)) return `its tag "${tag}" is not a tag`;
  }
  if (name.length > NAME_MAX) return `its name (registry host and path) is ${name.length} characters, more than ${NAME_MAX}`;
  const components = name.split('/');
  const [first = ''] = components;
  const hasHost = components.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasHost && !new RegExp(HOST).test(first)) return `its registry host "${first}" is not a host name with an optional :port`;
  const path = hasHost ? components.slice(1) : components;
  if (path.some((c) => c === '')) return 'its path has an empty component ("//", or a "/" at an end)';
  const upper = path.find((c) => c !== c.toLowerCase());
  if (upper !== undefined) return `its path component "${upper}" has upper case, which no repository path has`;
  const bad = path.find((c) => !new RegExp(`^${PATH_COMPONENT}$`).test(c));
  if (bad !== undefined) return `its path component "${bad}" is not one`;
  return undefined;
}
