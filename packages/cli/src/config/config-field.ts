/**
 * One configurable setting: where it lives in the config object and the flag and environment
 * variable that set it. Commands build their commander options and their env lookups from these,
 * so `--help`, the env names and error messages never disagree.
 */
export interface ConfigField {
  /** Dotted path in the config object and the config file, e.g. `l1.size`. */
  readonly path: string;
  /** commander flag spec, e.g. `--l1-size <size>`. */
  readonly flags: string;
  /** Environment variable, e.g. `TIERKV_L1_SIZE`. */
  readonly env?: string;
  readonly description: string;
}

/** `--l1-size <size>` → `--l1-size`; `--no-fs` → `--no-fs`. */
export function longFlag(field: ConfigField): string {
  const match = /--[a-z0-9-]+/i.exec(field.flags);
  return match ? match[0] : field.flags;
}
