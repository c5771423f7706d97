/** Whether a Run profile's name is one of the app's profiles; undefined when they are not known. */
export function profileExists(profiles: readonly string[] | undefined, name: string): boolean | undefined {
  return profiles === undefined ? undefined : profiles.includes(name);
}
