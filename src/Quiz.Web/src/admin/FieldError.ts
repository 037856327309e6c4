import { h, type FunctionalComponent } from "vue";

/**
 * A field's error under it, with the id its input's aria-describedby names (see `fieldAttrs`).
 * Keys are the input's id, so one key ties the input, its label and its error.
 */
export const FieldError: FunctionalComponent<{ errors: Record<string, string>; k: string }> = ({ errors, k }) =>
  errors[k] ? h("p", { id: `err-${k}`, class: "field-error", "data-test": "field-error" }, errors[k]) : null;
FieldError.props = ["errors", "k"];

/** An input's id, test hook and, when it has an error, what ties the error to it. */
export function fieldAttrs(errors: Record<string, string>, key: string) {
  return {
    id: key,
    "data-test": `f-${key}`,
    ...(errors[key] ? { "aria-invalid": true, "aria-describedby": `err-${key}` } : {}),
  };
}
