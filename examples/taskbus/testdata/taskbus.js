// The Node program that examples/taskbus answers (from ../shared/NODE-EXAMPLES.md).
const EventEmitter = require('events');
class TaskBus extends EventEmitter {
  addTask(task) {
    setTimeout(() => {
      this.emit('task:done', { id: task.id, result: task.work.toUpperCase() });
    }, 100);
  }
}
const bus = new TaskBus();
bus.on('task:done', (payload) => console.log('Task finished:', payload));
bus.once('task:done', () => console.log('This runs only for the first completion'));
bus.addTask({ id: 1, work: 'compile' });
bus.addTask({ id: 2, work: 'test' });
