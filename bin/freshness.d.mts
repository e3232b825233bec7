/** Folders compiled into dist/. */
export declare const SOURCE_DIRS: readonly string[];
/** True when `root`/dist was built after the last change to any source, profile or package.json. */
export declare function distIsFresh(root: string): boolean;
