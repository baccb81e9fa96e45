/**
 * Reading a PEFT LoRA adapter from disk: `adapter_model.safetensors` + `adapter_config.json`
 * (a directory holding both, or the .safetensors file with the config beside it). The factor
 * algebra (pairing lora_A/lora_B, scaling, transposes) is `loraUpdates` in factors.ts; this
 * module does the I/O and the checks against the base model's tensors.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ModelError } from './errors.ts';
import { checkLoraShape, loraUpdates, parseAdapterConfig, type LoraConfig, type LoraUpdate } from './factors.ts';
import { isFloatDtype, openSafetensorsFile, readTensorValues } from './safetensors.ts';

export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const ADAPTER_CONFIG = 'adapter_config.json';

export interface Adapter {
  /** The adapter's weights file, for messages. */
  readonly label: string;
  readonly config: LoraConfig;
  /** Low-rank updates by base tensor name. */
  readonly updates: ReadonlyMap<string, LoraUpdate>;
  /** Adapter tensors that are not LoRA factors (trained biases, modules_to_save, …). */
  readonly others: readonly string[];
}

async function kind(path: string): Promise<'file' | 'dir' | 'none'> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return 'none';
  }
}

/** Where the weights and the config of an adapter path are. */
export async function adapterFiles(path: string): Promise<{ weights: string; config: string }> {
  const k = await kind(path);
  if (k === 'none') throw new ModelError('NOT_FOUND', `${path}: no such adapter file or directory`, { file: path });
  const weights = k === 'dir' ? join(path, ADAPTER_WEIGHTS) : path;
  const config = join(k === 'dir' ? path : dirname(path), ADAPTER_CONFIG);
  if ((await kind(weights)) !== 'file') throw new ModelError('NOT_FOUND', `${path}: the adapter directory has no ${ADAPTER_WEIGHTS}`, { file: weights });
  if ((await kind(config)) !== 'file') {
    throw new ModelError('NOT_FOUND', `${weights}: no ${ADAPTER_CONFIG} beside it (its r and lora_alpha fix the scaling of the update)`, { file: config });
  }
  return { weights, config };
}

/**
 * Load an adapter and turn it into per-tensor real factors of ΔW. `base` gives the base
 * model's tensor names and shapes: every LoRA module must name a base tensor whose matrix
 * view the factors fit (BAD_ADAPTER naming the adapter tensor otherwise).
 */
export async function readAdapter(path: string, base: readonly { readonly name: string; readonly shape: readonly number[] }[]): Promise<Adapter> {
  const { weights, config: configPath } = await adapterFiles(path);
  let configJson: unknown;
  try {
    configJson = JSON.parse(await readFile(configPath, 'utf8')) as unknown;
  } catch (e) {
    throw new ModelError('BAD_ADAPTER', `${configPath}: not valid JSON (${(e as Error).message})`, { file: configPath });
  }
  const config = parseAdapterConfig(configJson, configPath);
  const file = await openSafetensorsFile(weights);
  try {
    const tensors = [];
    for (const info of file.tensors.values()) {
      if (!isFloatDtype(info.dtype)) {
        throw new ModelError('BAD_ADAPTER', `${weights}: tensor ${JSON.stringify(info.name)}: dtype ${info.dtype} is not a float type`, { file: weights, tensor: info.name, field: 'dtype' });
      }
      tensors.push({ name: info.name, shape: info.shape, data: await readTensorValues(file, info.name) });
    }
    const baseShapes = new Map(base.map((t) => [t.name, t.shape]));
    const { updates, others } = loraUpdates(tensors, config, { file: weights, baseNames: new Set(baseShapes.keys()) });
    const byTensor = new Map<string, LoraUpdate>();
    for (const u of updates) {
      checkLoraShape(u, baseShapes.get(u.tensor)!, weights);
      byTensor.set(u.tensor, u);
    }
    return { label: basename(weights) === ADAPTER_WEIGHTS ? dirname(weights) : weights, config, updates: byTensor, others };
  } finally {
    await file.close();
  }
}
