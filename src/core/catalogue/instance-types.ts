// The instance-type catalogue: what an instance's `size` may be. One list for the kind's
// validation, the API's `GET /v1/instance-types` and the simulated cloud's capacity.

/** One instance type. */
export interface InstanceType {
  /** The value of an instance's `size`. */
  readonly name: string;
  /** Virtual CPUs. */
  readonly vcpus: number;
  /** Memory, MiB. */
  readonly memoryMiB: number;
  /** List price, US dollars per hour. */
  readonly pricePerHour: number;
}

/** Every instance type, smallest first. */
export const INSTANCE_TYPES: readonly InstanceType[] = [
  { name: 'small', vcpus: 1, memoryMiB: 2_048, pricePerHour: 0.0104 },
  { name: 'medium', vcpus: 2, memoryMiB: 4_096, pricePerHour: 0.0208 },
  { name: 'large', vcpus: 4, memoryMiB: 8_192, pricePerHour: 0.0416 },
  { name: 'xlarge', vcpus: 8, memoryMiB: 16_384, pricePerHour: 0.0832 },
];
