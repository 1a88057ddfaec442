/** The addon of this process, loaded once when the package is first imported (by either entry). */
import { loadAddon } from './addon.js';

export const loaded = loadAddon();
