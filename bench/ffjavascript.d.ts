/** The part of ffjavascript (a devDependency without type declarations) that bench/native.ts uses. */
declare module 'ffjavascript' {
  interface FfjsG1 {
    /** Standard uncompressed big-endian x ‖ y → ffjavascript's affine little-endian Montgomery form. */
    fromRprUncompressed(bytes: Uint8Array, offset: number): Uint8Array;
    toUncompressed(point: Uint8Array): Uint8Array;
    isZero(point: Uint8Array): boolean;
    /** Σ s_i·B_i for affine bases and little-endian scalars of equal byte width. */
    multiExpAffine(bases: Uint8Array, scalars: Uint8Array): Promise<Uint8Array>;
  }
  interface FfjsCurve {
    readonly G1: FfjsG1;
    terminate(): Promise<void>;
  }
  export function buildBls12381(singleThread?: boolean): Promise<FfjsCurve>;
}
