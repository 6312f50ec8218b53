/** One validation failure, located by a JSON Pointer into the request body (`/spec/cidr`). */
export interface FieldError {
  readonly path: string;
  readonly message: string;
}
