/* placeholder */
typedef int ts_placeholder_main;
int main(void){return 0;}
