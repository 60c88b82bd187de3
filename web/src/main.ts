import { createApp } from 'vue'
// The components a template names come in by themselves (see vite.config.ts);
// these are the ones code calls directly, and the icons named by string.
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import { Aim, ArrowDown, ChatLineSquare, DataBoard, Download, Edit, Food, Iphone, List, Location, Lock, Menu, OfficeBuilding, Plus, Search, Setting } from '@element-plus/icons-vue'
import App from './App.vue'
import { router } from './router'
import './style.css'

const app = createApp(App)
const icons = { Aim, ArrowDown, ChatLineSquare, DataBoard, Download, Edit, Food, Iphone, List, Location, Lock, Menu, OfficeBuilding, Plus, Search, Setting }
for (const [name, comp] of Object.entries(icons)) app.component(name, comp)
app.use(router).mount('#app')
