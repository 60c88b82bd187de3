// Flat rows with parent ids → a tree for el-table / el-tree. Rows whose parent
// is not in the list (outside the user's view) become roots.

export interface TreeRow {
  id: number
  parent_id: number | null
  sort?: number
}

export type Tree<T> = T & { children?: Tree<T>[] }

export function buildTree<T extends TreeRow>(rows: T[]): Tree<T>[] {
  const byId = new Map<number, Tree<T>>()
  for (const r of rows) byId.set(r.id, { ...r })
  const roots: Tree<T>[] = []
  for (const r of rows) {
    const node = byId.get(r.id)!
    const parent = r.parent_id === null ? undefined : byId.get(r.parent_id)
    if (parent && parent !== node) (parent.children ??= []).push(node)
    else roots.push(node)
  }
  const order = (list: Tree<T>[]) => {
    list.sort((a, b) => (a.sort ?? 0) - (b.sort ?? 0) || a.id - b.id)
    for (const n of list) if (n.children) order(n.children)
  }
  order(roots)
  return roots
}
